package dev.pcwmesh.encoder;

import dev.pcwmesh.proto.v1.EncoderGrpc;
import dev.pcwmesh.proto.v1.FetchRequest;
import dev.pcwmesh.service.security.MeshChannels;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import static dev.pcwmesh.service.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The encoder with API keys on, the keys from the environment's form ({@code PCW_SECURITY_API_KEYS}):
 * FetchSegments, the generator's call, needs the generator's key; health stays open.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaAndModelResource.class, restrictToAnnotatedClass = true)
@TestProfile(EncoderSecurityTest.Keys.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EncoderSecurityTest {
    public static class Keys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pcw.security.enabled", "true", "pcw.security.api-keys", "generator:gen-secret,ops:ops-secret");
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

    private static FetchRequest unknownSegment() {
        return FetchRequest.newBuilder().setSegmentId("%064x".formatted(12345)).build();
    }

    @Test
    void fetchSegmentsNeedsAKey() {
        EncoderGrpc.EncoderBlockingStub stub = EncoderGrpc.newBlockingStub(channel);
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class, () -> stub.fetchSegments(unknownSegment()).hasNext());
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode(), none.toString());
        StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
                () -> stub.withCallCredentials(MeshChannels.apiKey("gen-secreT")).fetchSegments(unknownSegment()).hasNext());
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode(), wrong.toString());
        // With the generator's key (as SegmentFetcher sends it) the encoder itself answers.
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_SEGMENT",
                () -> stub.withCallCredentials(MeshChannels.apiKey("gen-secret")).fetchSegments(unknownSegment()).hasNext());
        Metadata m = new Metadata();
        m.put(MeshChannels.X_API_KEY, "ops-secret");
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_SEGMENT",
                () -> stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m)).fetchSegments(unknownSegment()).hasNext());
    }

    @Test
    void healthStaysOpenAndOtherPathsNeedAKey() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/live")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), health.body());
        HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/anything")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, other.statusCode(), other.body());
        assertEquals("Bearer", other.headers().firstValue("WWW-Authenticate").orElse(null));
    }
}
