package dev.pcwmesh.encoder;

import dev.pcwmesh.runtime.TestModels;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the service needs in tests: a real single-node KRaft Kafka broker in this JVM (Kafka's own
 * test kit, no Docker), a free port for HTTP and gRPC (so concurrent builds on one machine do not
 * collide on 8081), a fresh directory for the segment store, and the model: {@code ../shared/models/stories260K.gguf} beside the repository.
 * Without it the tests run on the repository's own {@code models/pcw-demo.gguf}, except under CI
 * (environment {@code CI} set), where a missing reference model fails the run.
 */
public class KafkaAndModelResource implements QuarkusTestResourceLifecycleManager {
    private static KafkaClusterTestKit cluster;
    private static String bootstrap;
    private static Path storeDir;

    /** The segment store's directory in this test run. */
    public static Path storeDir() { return storeDir; }

    public static String bootstrapServers() { return bootstrap; }

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
            cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                    // One broker: the internal topics (consumer offsets, transactions) must have one replica.
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "4")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            bootstrap = cluster.bootstrapServers();
            String port = Integer.toString(freePort());
            storeDir = Files.createTempDirectory("pcw-encoder-test-store");
            return Map.of(
                    "pcw.store.disk-dir", storeDir.toString(),
                    "kafka.bootstrap.servers", bootstrap,
                    "quarkus.http.test-port", port,
                    "quarkus.grpc.clients.encoder.host", "localhost",
                    "quarkus.grpc.clients.encoder.port", port,
                    "pcw.model", model().toString());
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test Kafka broker", e);
        }
    }

    @Override
    public void stop() {
        if (storeDir != null) {
            try (var files = Files.walk(storeDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                System.err.println("removing the test store " + storeDir + ": " + e);
            }
        }
        if (cluster != null) {
            try {
                cluster.close();
            } catch (Exception e) {
                System.err.println("closing the test broker: " + e);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
