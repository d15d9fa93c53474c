package dev.pcwmesh.generator;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.service.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.nio.file.Path;
import java.util.Map;

/**
 * What the service needs in tests: the test broker ({@link TestKafka}), a free port for HTTP and
 * gRPC, and the model: the repository's {@code models/pcw-demo.gguf}, the model {@code ./pcw demo}
 * answers with.
 */
public class KafkaAndModelResource implements QuarkusTestResourceLifecycleManager {

    static Path model() {
        String forced = System.getProperty("generator.test.model");     // to run the suite on another model
        return forced != null ? Path.of(forced).toAbsolutePath() : TestModels.inRepository("models/pcw-demo.gguf");
    }

    @Override
    public Map<String, String> start() {
        String port = Integer.toString(TestKafka.freePort());
        return Map.of(
                "kafka.bootstrap.servers", TestKafka.start(),
                "quarkus.http.test-port", port,
                "quarkus.grpc.clients.generator.host", "localhost",
                "quarkus.grpc.clients.generator.port", port,
                "pcw.model", model().toString());
    }

    @Override
    public void stop() {
        TestKafka.stop();
    }
}
