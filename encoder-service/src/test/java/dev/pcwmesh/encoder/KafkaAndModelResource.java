package dev.pcwmesh.encoder;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.service.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;

/**
 * What the service needs in tests: the test broker ({@link TestKafka}), a free port for HTTP and
 * gRPC, a fresh directory for the segment store, and the model: {@code ../shared/models/stories260K.gguf}
 * beside the repository. Without it the tests run on the repository's own {@code models/pcw-demo.gguf},
 * except under CI (environment {@code CI} set), where a missing reference model fails the run.
 */
public class KafkaAndModelResource implements QuarkusTestResourceLifecycleManager {
    private static Path storeDir;

    /** The segment store's directory in this test run. */
    public static Path storeDir() { return storeDir; }

    static Path model() {
        String forced = System.getProperty("encoder.test.model");     // to run the suite on another model
        if (forced != null) return Path.of(forced).toAbsolutePath();
        Path stories = TestModels.sharedModels().resolve("stories260K.gguf");
        if (Files.exists(stories)) return stories;
        if (System.getenv("CI") != null) throw new AssertionError("reference model missing: " + stories + "; CI is set, so this fails instead of falling back");
        System.err.println("NOTE: " + stories + " is missing; the encoder tests run on models/pcw-demo.gguf");
        return TestModels.inRepository("models/pcw-demo.gguf");
    }

    @Override
    public Map<String, String> start() {
        try {
            storeDir = Files.createTempDirectory("pcw-encoder-test-store");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String port = Integer.toString(TestKafka.freePort());
        return Map.of(
                "pcw.store.disk-dir", storeDir.toString(),
                "kafka.bootstrap.servers", TestKafka.start(),
                "quarkus.http.test-port", port,
                "quarkus.grpc.clients.encoder.host", "localhost",
                "quarkus.grpc.clients.encoder.port", port,
                "pcw.model", model().toString());
    }

    @Override
    public void stop() {
        if (storeDir != null) {
            try (var files = Files.walk(storeDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                System.err.println("removing the test store " + storeDir + ": " + e);
            }
        }
        TestKafka.stop();
    }
}
