package dev.pcwmesh.chunker;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.service.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the service needs in tests: the test broker ({@link TestKafka}), a free port for HTTP and
 * gRPC, and the model: {@code ../shared/models/stories260K.gguf} beside the repository. Without it
 * the tests run on the repository's own {@code models/pcw-demo.gguf}, except under CI (environment
 * {@code CI} set), where a missing reference model fails the run.
 */
public class KafkaAndModelResource implements QuarkusTestResourceLifecycleManager {

    static Path model() {
        String forced = System.getProperty("chunker.test.model");     // to run the suite on another model
        if (forced != null) return Path.of(forced).toAbsolutePath();
        Path stories = TestModels.sharedModels().resolve("stories260K.gguf");
        if (Files.exists(stories)) return stories;
        if (System.getenv("CI") != null) throw new AssertionError("reference model missing: " + stories + "; CI is set, so this fails instead of falling back");
        System.err.println("NOTE: " + stories + " is missing; the chunker tests run on models/pcw-demo.gguf");
        return TestModels.inRepository("models/pcw-demo.gguf");
    }

    @Override
    public Map<String, String> start() {
        String port = Integer.toString(TestKafka.freePort());
        return Map.of(
                "kafka.bootstrap.servers", TestKafka.start(),
                "quarkus.http.test-port", port,
                "quarkus.grpc.clients.chunker.host", "localhost",
                "quarkus.grpc.clients.chunker.port", port,
                "pcw.model", model().toString());
    }

    @Override
    public void stop() {
        TestKafka.stop();
    }
}
