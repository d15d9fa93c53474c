package dev.pcwmesh.chunker;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the chunker's topics when they are missing ({@code pcw.topics.create}), before the messaging
 * channels start (so a broker's auto-creation never picks their settings): windows and documents with
 * {@code pcw.topics.partitions} partitions, windows and manifests compacted (a window's key names the
 * window, so compaction keeps each window's last copy), the dead-letter topic with one partition.
 */
@ApplicationScoped
public class TopicCreator {
    private static final Logger LOG = Logger.getLogger(TopicCreator.class);

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event, ChunkerConfig config,
                 @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap,
                 @ConfigProperty(name = "mp.messaging.incoming.documents.topic", defaultValue = "pcw.documents") String documentsTopic) {
        ChunkerConfig.Topics topics = config.topics();
        if (!topics.create()) return;
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(p)) {
            Set<String> existing = new HashSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
            List<NewTopic> missing = new ArrayList<>();
            int partitions = topics.partitions();
            short rf = topics.replicationFactor();
            if (!existing.contains(topics.windows())) {
                missing.add(new NewTopic(topics.windows(), partitions, rf)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
            }
            if (!existing.contains(topics.manifests())) {
                missing.add(new NewTopic(topics.manifests(), partitions, rf)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
            }
            if (!existing.contains(documentsTopic)) missing.add(new NewTopic(documentsTopic, partitions, rf));
            if (!existing.contains(topics.documentsDlq())) missing.add(new NewTopic(topics.documentsDlq(), 1, rf));
            for (var e : admin.createTopics(missing).values().entrySet()) {
                try {
                    e.getValue().get(30, TimeUnit.SECONDS);
                    LOG.infof("created topic %s", e.getKey());
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) throw ex;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create the chunker's Kafka topics at " + bootstrap + ": " + e.getMessage(), e);
        }
    }
}
