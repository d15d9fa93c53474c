package dev.pcwmesh.client;

import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.DocumentRef;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import dev.pcwmesh.service.testing.TestCa;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MeshClient against a grpc-java server on loopback that requires TLS with client certificates of a
 * CA made here: the client trusts the CA, presents its certificate, and sends its API key as
 * {@code Authorization: Bearer} (the server records what arrived and answers GetDocument).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MeshClientSecurityTest {
    private Path dir;

    private Server server;
    private final AtomicReference<String> authorization = new AtomicReference<>();

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("target"), "mesh-client-tls");
        TestCa ca = TestCa.create("client-test-ca");
        ca.writeCertificate(dir, "ca.pem");
        Path[] serverCert = ca.issue(dir, "server");
        ca.issue(dir, "client");
        TestCa rogue = TestCa.create("rogue-ca");
        rogue.issue(dir, "rogue");
        GeneratorGrpc.GeneratorImplBase generator = new GeneratorGrpc.GeneratorImplBase() {
            @Override
            public void getDocument(DocumentRef request, StreamObserver<DocumentManifest> response) {
                response.onNext(DocumentManifest.newBuilder().setDocumentId(request.getDocumentId()).build());
                response.onCompleted();
            }
        };
        ServerInterceptor recordKey = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                authorization.set(headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER)));
                return Contexts.interceptCall(io.grpc.Context.current(), call, headers, next);
            }
        };
        server = Grpc.newServerBuilderForPort(0, TlsServerCredentials.newBuilder()
                        .keyManager(serverCert[0].toFile(), serverCert[1].toFile())
                        .trustManager(dir.resolve("ca.pem").toFile())
                        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build())
                .addService(ServerInterceptors.intercept(generator, recordKey)).build().start();
    }

    @AfterAll
    void stop() {
        server.shutdownNow();
    }

    private String address() {
        return "localhost:" + server.getPort();
    }

    private MeshClient.Security security(String key, String clientCert) {
        return new MeshClient.Security(key, true, dir.resolve("ca.pem"), dir.resolve(clientCert + ".pem"), dir.resolve(clientCert + ".key"));
    }

    @Test
    void sendsItsKeyOverMutualTls() {
        try (MeshClient client = MeshClient.connect(address(), address(), Duration.ofSeconds(20), security("k-123", "client"))) {
            assertEquals("doc-1", client.document("doc-1").getDocumentId());
            assertEquals("Bearer k-123", authorization.get());
        }
        try (MeshClient client = MeshClient.connect(address(), address(), Duration.ofSeconds(20), security(null, "client"))) {
            client.document("doc-2");
            assertNull(authorization.get(), "no key, no Authorization header");
        }
    }

    @Test
    void aCertificateOfAnotherCaOrPlaintextIsRefused() {
        try (MeshClient client = MeshClient.connect(address(), address(), Duration.ofSeconds(20), security("k", "rogue"))) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.document("doc"));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        }
        try (MeshClient client = MeshClient.connect(address(), address(), Duration.ofSeconds(20), MeshClient.Security.none())) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.document("doc"));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        }
    }

    @Test
    void securityFromTheEnvironment() {
        MeshClient.Security s = MeshClient.Security.fromEnvironment(Map.of("PCW_API_KEY", " k ", "PCW_TLS_CA_FILE", "/ca.pem"));
        assertEquals("k", s.apiKey());
        assertTrue(s.tls(), "a CA file means TLS");
        assertEquals(Path.of("/ca.pem"), s.caPem());
        MeshClient.Security none = MeshClient.Security.fromEnvironment(Map.of());
        assertNull(none.apiKey());
        assertEquals(false, none.tls());
        assertTrue(MeshClient.Security.fromEnvironment(Map.of("PCW_TLS", "true")).tls());
    }
}
