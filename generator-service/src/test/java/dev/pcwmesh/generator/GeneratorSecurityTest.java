package dev.pcwmesh.generator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import dev.pcwmesh.proto.v1.DocumentRef;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.service.security.ApiKeys;
import dev.pcwmesh.service.security.MeshChannels;
import dev.pcwmesh.service.testing.TestCa;
import dev.pcwmesh.service.testing.TestKafka;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.pcwmesh.service.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generator with security on, as a deployment runs it: API keys from a file (one plain, one
 * stored as its SHA-256), one ask per key at a time, TLS on the one port for gRPC and HTTP with a
 * CA made here ({@link TestCa}), client certificates required (mutual TLS), plaintext off. Clients
 * are real: grpc-java through {@link MeshChannels} (what the generator uses towards encoders) and
 * Java's HttpClient.
 */
@QuarkusTest
@TestProfile(GeneratorSecurityTest.Secured.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GeneratorSecurityTest {
    /** Where the profile writes the CA, certificates and keys file (module-relative, fresh each run). */
    static final Path DIR = Path.of("target", "security-test").toAbsolutePath();

    public static class Secured implements QuarkusTestProfile {
        @Override
        public String getConfigProfile() {
            return "test,tls,mtls";
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                if (Files.exists(DIR)) {
                    try (Stream<Path> files = Files.walk(DIR)) {
                        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                    }
                }
                Files.createDirectories(DIR);
                TestCa ca = TestCa.create("pcw-test-ca");
                ca.writeCertificate(DIR, "ca.pem");
                Path[] server = ca.issue(DIR, "server");
                ca.issue(DIR, "client");
                TestCa rogue = TestCa.create("rogue-ca");
                rogue.writeCertificate(DIR, "rogue-ca.pem");
                rogue.issue(DIR, "rogue-client");
                Files.writeString(DIR.resolve("api-keys"), "# name:key or name:sha256:<hex>\nalice:alice-secret\n\nbob:sha256:"
                        + ApiKeys.sha256Hex("bob-secret") + "\n");
                Map<String, String> c = new HashMap<>();
                c.put("pcw.security.enabled", "true");
                c.put("pcw.security.api-keys-file", DIR.resolve("api-keys").toString());
                c.put("pcw.security.max-concurrent-asks-per-key", "1");
                // An ask for a document that never comes holds its slot this long (or until cancelled).
                c.put("pcw.limits.document-wait", "120s");
                // TLS and mutual TLS as application.properties has them under the profiles tls and mtls,
                // from the files a Secret would hold.
                c.put("PCW_TLS_CERT_FILE", server[0].toString());
                c.put("PCW_TLS_KEY_FILE", server[1].toString());
                c.put("PCW_TLS_CA_FILE", DIR.resolve("ca.pem").toString());
                c.put("quarkus.http.test-ssl-port", Integer.toString(TestKafka.freePort()));
                return c;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Inject
    Asks asks;

    @Inject
    LoadedModel loaded;

    private int port;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void ports() {
        port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
    }

    @AfterAll
    void close() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    // ------------------------------------------------------------------ API keys, gRPC

    @Test
    void grpcCallWithoutOrWithWrongKeyIsUnauthenticated() {
        GeneratorGrpc.GeneratorBlockingStub stub = GeneratorGrpc.newBlockingStub(channel(tls("client")));
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class, () -> stub.getDocument(ref("nope")));
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode(), none.toString());
        assertTrue(none.getStatus().getDescription().contains("no credentials"), none.toString());
        assertEquals("UNAUTHENTICATED", Status.trailersFromThrowable(none).get(Metadata.Key.of("pcw-reason", Metadata.ASCII_STRING_MARSHALLER)));
        StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
                () -> stub.withCallCredentials(MeshChannels.apiKey("alice-secreT")).getDocument(ref("nope")));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode(), wrong.toString());
        assertFalse(wrong.getStatus().getDescription().contains("alice-secreT"), "the refusal must not repeat the key");
        // A streamed call is refused the same way, before anything is answered.
        Iterator<AnswerEvent> answer = stub.ask(chat("Hello"));
        StatusRuntimeException ask = assertThrows(StatusRuntimeException.class, answer::hasNext);
        assertEquals(Status.Code.UNAUTHENTICATED, ask.getStatus().getCode(), ask.toString());
    }

    @Test
    void grpcCallWithAKeyGoesThrough() {
        GeneratorGrpc.GeneratorBlockingStub stub = GeneratorGrpc.newBlockingStub(channel(tls("client")));
        // Past authentication, the generator itself answers: no such document.
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", () -> stub.withCallCredentials(MeshChannels.apiKey("alice-secret")).getDocument(ref("nope")));
        // bob's key is stored as its digest; x-api-key works as well as Authorization: Bearer.
        Metadata m = new Metadata();
        m.put(MeshChannels.X_API_KEY, "bob-secret");
        GeneratorGrpc.GeneratorBlockingStub bob = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", () -> bob.getDocument(ref("nope")));
        List<AnswerEvent> events = new ArrayList<>();
        bob.ask(chat("Hello")).forEachRemaining(events::add);
        assertTrue(events.getLast().hasDone(), "a whole answer ends with its figures: " + events);
    }

    // ------------------------------------------------------------------ API keys, HTTP

    @Test
    void httpWithoutOrWithWrongKeyIs401InOpenAisShape() throws Exception {
        HttpClient http = http("client");
        for (String[] header : new String[][]{null, {"Authorization", "Bearer wrong"}, {"x-api-key", "wrong"}, {"Authorization", "Basic YTpi"}}) {
            HttpRequest.Builder r = HttpRequest.newBuilder(url("/v1/models"));
            if (header != null) r.header(header[0], header[1]);
            HttpResponse<String> response = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, response.statusCode(), response.body());
            assertEquals(Optional.of("Bearer"), response.headers().firstValue("WWW-Authenticate"));
            JsonNode error = json.readTree(response.body()).get("error");
            assertEquals("invalid_api_key", error.get("code").asText(), response.body());
            assertEquals("invalid_request_error", error.get("type").asText(), response.body());
        }
        HttpResponse<String> chat = http.send(HttpRequest.newBuilder(url("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, chat.statusCode(), chat.body());
    }

    @Test
    void httpWithAKeyGoesThroughAndHealthAndMetricsStayOpen() throws Exception {
        HttpClient http = http("client");
        HttpResponse<String> bearer = http.send(HttpRequest.newBuilder(url("/v1/models")).header("Authorization", "Bearer alice-secret").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, bearer.statusCode(), bearer.body());
        HttpResponse<String> apiKey = http.send(HttpRequest.newBuilder(url("/v1/models")).header("x-api-key", "bob-secret").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, apiKey.statusCode(), apiKey.body());
        for (String open : List.of("/q/health/live", "/q/metrics")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(url(open)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), open + ": " + r.body());
        }
    }

    // ------------------------------------------------------------------ per-key limit

    @Test
    void aKeyHasAtMostItsLimitOfAsksRunning() throws Exception {
        ManagedChannel channel = channel(tls("client"));
        int freeBefore = asks.freeSlots();
        // alice's first ask waits for the last window of a document that never comes
        // (pcw.limits.document-wait), in its slot, until it is cancelled.
        String incomplete = "doc-" + UUID.randomUUID();
        try (ChunkerRecords chunker = new ChunkerRecords(loaded.model())) {
            chunker.publish(incomplete, chunker.split(ChunkerRecords.factsText(new Random(9), 20)).subList(0, 1), 2);
        }
        CompletableFuture<Status> first = new CompletableFuture<>();
        Context.CancellableContext held = Context.current().withCancellation();
        held.run(() -> GeneratorGrpc.newStub(channel).withCallCredentials(MeshChannels.apiKey("alice-secret"))
                .ask(AskRequest.newBuilder().setRequestId("held").setQuestion("Who?").addDocumentIds(incomplete).build(), new StreamObserver<>() {
                    @Override public void onNext(AnswerEvent value) { }
                    @Override public void onError(Throwable t) { first.complete(Status.fromThrowable(t)); }
                    @Override public void onCompleted() { first.complete(Status.OK); }
                }));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (asks.freeSlots() == freeBefore && System.nanoTime() < until) Thread.sleep(10);
        assertEquals(freeBefore - 1, asks.freeSlots(), "alice's first ask should hold a slot");
        assertFalse(first.isDone(), "alice's first ask should still be waiting: " + first.getNow(null));

        // Her second ask is refused at once, on gRPC and on the OpenAI endpoint ...
        GeneratorGrpc.GeneratorBlockingStub alice = GeneratorGrpc.newBlockingStub(channel).withCallCredentials(MeshChannels.apiKey("alice-secret"));
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "KEY_BUSY", () -> alice.ask(chat("Hello")).next());
        HttpResponse<String> http = http("client").send(HttpRequest.newBuilder(url("/v1/chat/completions"))
                .header("Authorization", "Bearer alice-secret").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 2}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(429, http.statusCode(), http.body());
        assertEquals("KEY_BUSY", json.readTree(http.body()).get("error").get("code").asText(), http.body());
        assertEquals(freeBefore - 1, asks.freeSlots(), "refused asks must not keep a slot");

        // ... while bob, another key, is answered.
        List<AnswerEvent> events = new ArrayList<>();
        GeneratorGrpc.newBlockingStub(channel).withCallCredentials(MeshChannels.apiKey("bob-secret")).ask(chat("Hello")).forEachRemaining(events::add);
        assertTrue(events.getLast().hasDone(), String.valueOf(events));

        assertFalse(first.isDone(), "alice's first ask should still be waiting: " + first.getNow(null));

        // When alice's first ask ends, her slot is hers again.
        held.cancel(null);
        Status ended = first.get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.CANCELLED, ended.getCode(), ended.toString());
        until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (asks.freeSlots() != freeBefore && System.nanoTime() < until) Thread.sleep(10);
        assertEquals(freeBefore, asks.freeSlots(), "a cancelled ask frees its slot");
        List<AnswerEvent> again = new ArrayList<>();
        alice.ask(chat("Hello")).forEachRemaining(again::add);
        assertTrue(again.getLast().hasDone(), String.valueOf(again));
        assertEquals(freeBefore, asks.freeSlots());
    }

    // ------------------------------------------------------------------ TLS and mutual TLS

    @Test
    void plaintextIsRefused() {
        // gRPC without TLS on the TLS port: no connection.
        StatusRuntimeException plain = assertThrows(StatusRuntimeException.class, () -> GeneratorGrpc.newBlockingStub(channel(InsecureChannelCredentials.create()))
                .withCallCredentials(MeshChannels.apiKey("alice-secret")).withDeadlineAfter(10, TimeUnit.SECONDS).getDocument(ref("nope")));
        assertEquals(Status.Code.UNAVAILABLE, plain.getStatus().getCode(), plain.toString());
        // HTTP without TLS on the TLS port, and the plain port is not open at all.
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThrows(IOException.class, () -> http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/models"))
                .header("Authorization", "Bearer alice-secret").timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
        int plainPort = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        assertThrows(IOException.class, () -> http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + plainPort + "/q/health/live"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
    }

    @Test
    void mutualTlsRefusesAClientCertificateFromAnotherCaAndNone() throws Exception {
        // A certificate of another CA is not verified, and a request without a verified certificate is
        // refused, even with a valid key, on gRPC and HTTP; health stays open for probes.
        ChannelCredentials noCertificate = MeshChannels.credentials(true, Optional.of(DIR.resolve("ca.pem")), Optional.empty(), Optional.empty());
        for (ChannelCredentials credentials : List.of(tls("rogue-client"), noCertificate)) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GeneratorGrpc.newBlockingStub(channel(credentials))
                    .withCallCredentials(MeshChannels.apiKey("alice-secret")).withDeadlineAfter(10, TimeUnit.SECONDS).getDocument(ref("nope")));
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e.toString());
            assertTrue(e.getStatus().getDescription().contains("client certificate"), e.toString());
        }
        for (HttpClient client : List.of(http("rogue-client"), HttpClient.newBuilder().sslContext(TestCa.sslContext(DIR.resolve("ca.pem"), null, null)).build())) {
            HttpResponse<String> models = client.send(HttpRequest.newBuilder(url("/v1/models")).header("Authorization", "Bearer alice-secret").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, models.statusCode(), models.body());
            HttpResponse<String> health = client.send(HttpRequest.newBuilder(url("/q/health/live")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
        }
        // The same certificate from the mesh's CA gets through (the call reaches the generator).
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", () -> GeneratorGrpc.newBlockingStub(channel(tls("client")))
                .withCallCredentials(MeshChannels.apiKey("alice-secret")).getDocument(ref("nope")));
        // A server certificate from another CA is not trusted by the client either.
        StatusRuntimeException untrusted = assertThrows(StatusRuntimeException.class, () -> GeneratorGrpc.newBlockingStub(channel(
                MeshChannels.credentials(true, Optional.of(DIR.resolve("rogue-ca.pem")), Optional.of(DIR.resolve("client.pem")), Optional.of(DIR.resolve("client.key")))))
                .withCallCredentials(MeshChannels.apiKey("alice-secret")).withDeadlineAfter(10, TimeUnit.SECONDS).getDocument(ref("nope")));
        assertEquals(Status.Code.UNAVAILABLE, untrusted.getStatus().getCode(), untrusted.toString());
    }

    // ------------------------------------------------------------------ helpers

    private static ChannelCredentials tls(String clientCert) {
        return MeshChannels.credentials(true, Optional.of(DIR.resolve("ca.pem")), Optional.of(DIR.resolve(clientCert + ".pem")),
                Optional.of(DIR.resolve(clientCert + ".key")));
    }

    private ManagedChannel channel(ChannelCredentials credentials) {
        ManagedChannel c = Grpc.newChannelBuilder("localhost:" + port, credentials).build();
        channels.add(c);
        return c;
    }

    private HttpClient http(String clientCert) {
        SSLContext ssl = TestCa.sslContext(DIR.resolve("ca.pem"), DIR.resolve(clientCert + ".pem"), DIR.resolve(clientCert + ".key"));
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private URI url(String path) {
        return URI.create("https://localhost:" + port + path);
    }

    private static DocumentRef ref(String id) {
        return DocumentRef.newBuilder().setDocumentId(id).build();
    }

    private static AskRequest chat(String text) {
        return AskRequest.newBuilder().addMessages(ChatTurn.newBuilder().setRole("user").setContent(text))
                .setSampling(Sampling.newBuilder().setMaxTokens(2)).build();
    }
}
