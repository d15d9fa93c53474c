package dev.pcwmesh.chunker;

import dev.pcwmesh.proto.v1.ChunkerGrpc;
import dev.pcwmesh.proto.v1.SplitRequest;
import dev.pcwmesh.proto.v1.SplitResponse;
import dev.pcwmesh.service.security.ApiKeys;
import dev.pcwmesh.service.security.MeshChannels;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The chunker with API keys on (a keys file holding only a digest): Split needs a key; health and metrics stay open. */
@QuarkusTest
@QuarkusTestResource(value = KafkaAndModelResource.class, restrictToAnnotatedClass = true)
@TestProfile(ChunkerSecurityTest.Keys.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChunkerSecurityTest {
    public static class Keys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Path file = Files.createTempFile("pcw-chunker-keys", ".txt");
                Files.writeString(file, "ingest:sha256:" + ApiKeys.sha256Hex("ingest-secret") + "\n");
                return Map.of("pcw.security.enabled", "true", "pcw.security.api-keys-file", file.toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private ManagedChannel channel;
    private int port;

    @BeforeAll
    void connect() {
        port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        channel = Grpc.newChannelBuilder("localhost:" + port, InsecureChannelCredentials.create()).build();
    }

    @AfterAll
    void close() {
        channel.shutdownNow();
    }

    @Test
    void splitNeedsAKey() {
        SplitRequest split = SplitRequest.newBuilder().setText("A short text to split into windows.").setMaxWindowTokens(8).build();
        ChunkerGrpc.ChunkerBlockingStub stub = ChunkerGrpc.newBlockingStub(channel);
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class, () -> stub.split(split));
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode(), none.toString());
        StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
                () -> stub.withCallCredentials(MeshChannels.apiKey(ApiKeys.sha256Hex("ingest-secret"))).split(split));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode(), "the stored digest is not a key: " + wrong);
        SplitResponse r = stub.withCallCredentials(MeshChannels.apiKey("ingest-secret")).split(split);
        assertTrue(r.getWindowsCount() >= 1, r.toString());
    }

    @Test
    void healthAndMetricsStayOpen() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (String path : new String[]{"/q/health/ready", "/q/metrics"}) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(r.statusCode() == 200 || (path.contains("health") && r.statusCode() == 503), path + ": " + r.statusCode() + " " + r.body());
        }
    }
}
