package dev.pcwmesh.generator;

import dev.pcwmesh.runtime.TestModels;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the service needs in tests: a real single-node KRaft Kafka broker in this JVM (Kafka's own
 * test kit, no Docker), a free port for HTTP and gRPC (so concurrent builds on one machine do not
 * collide on 8081), and the model: the repository's {@code models/pcw-demo.gguf}.
 */
public class KafkaAndModelResource implements QuarkusTestResourceLifecycleManager {
    private static KafkaClusterTestKit cluster;
    private static String bootstrap;

    public static String bootstrapServers() { return bootstrap; }

    /** The shipped demo model: always in the repository, and the model {@code ./pcw demo} answers with. */
    static Path model() {
        String forced = System.getProperty("generator.test.model");     // to run the suite on another model
        return forced != null ? Path.of(forced).toAbsolutePath() : TestModels.inRepository("models/pcw-demo.gguf");
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
            return Map.of(
                    "kafka.bootstrap.servers", bootstrap,
                    "quarkus.http.test-port", port,
                    "quarkus.grpc.clients.generator.host", "localhost",
                    "quarkus.grpc.clients.generator.port", port,
                    "pcw.model", model().toString());
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test Kafka broker", e);
        }
    }

    @Override
    public void stop() {
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
