package dev.pcwmesh.service.testing;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.io.IOException;
import java.net.ServerSocket;

/**
 * A real single-node KRaft Kafka broker in the test JVM (Kafka's own test kit, no Docker), one per
 * JVM, for the services' tests; and free ports, so concurrent builds on one machine do not collide.
 */
public final class TestKafka {
    private static KafkaClusterTestKit cluster;
    private static String bootstrap;

    private TestKafka() {}

    /** Starts the broker (once) and returns its bootstrap address. */
    public static synchronized String start() {
        if (cluster != null) return bootstrap;
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
            return bootstrap;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test Kafka broker", e);
        }
    }

    /** The running broker's bootstrap address. */
    public static synchronized String bootstrapServers() {
        if (bootstrap == null) throw new IllegalStateException("the test broker is not started");
        return bootstrap;
    }

    public static synchronized void stop() {
        if (cluster == null) return;
        try {
            cluster.close();
        } catch (Exception e) {
            System.err.println("closing the test broker: " + e);
        }
        cluster = null;
        bootstrap = null;
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
