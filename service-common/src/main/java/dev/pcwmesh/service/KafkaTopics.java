package dev.pcwmesh.service;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Creates the topics a service needs when they are missing. Each service calls it at start-up,
 * before its messaging channels start, so that a broker's auto-creation never picks a topic's
 * settings (compaction above all), and whichever service starts first creates the shared ones.
 */
public final class KafkaTopics {
    /** The configuration of a compacted topic: the mesh's state topics keep each key's last record. */
    public static final Map<String, String> COMPACTED = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);

    private KafkaTopics() {}

    /**
     * Creates those of {@code wanted} that the broker at {@code bootstrap} lacks (one created
     * meanwhile by another service is fine), telling {@code created} each name it created.
     */
    public static void ensure(String bootstrap, List<NewTopic> wanted, Consumer<String> created) {
        ensure(bootstrap, Map.of(), wanted, created);
    }

    /** {@link #ensure(String, List, Consumer)} with an admin client that also gets {@code security} ({@link KafkaSecurity}). */
    public static void ensure(String bootstrap, Map<String, String> security, List<NewTopic> wanted, Consumer<String> created) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(KafkaSecurity.apply(p, security))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (NewTopic t : wanted) if (!existing.contains(t.name())) missing.add(t);
            for (var e : admin.createTopics(missing).values().entrySet()) {
                try {
                    e.getValue().get(30, TimeUnit.SECONDS);
                    created.accept(e.getKey());
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) throw ex;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create Kafka topics at " + bootstrap + ": " + e.getMessage(), e);
        }
    }
}
