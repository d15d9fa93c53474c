package dev.pcwmesh.generator;

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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the topics the generator reads and writes when they are missing ({@code pcw.topics.create}),
 * before the messaging channels and the mesh view start, so the generator may start first: the
 * compacted state topics (manifests, windows, segments), questions, answers and the dead-letter topic.
 */
@ApplicationScoped
public class TopicCreator {
    private static final Logger LOG = Logger.getLogger(TopicCreator.class);

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event, GeneratorConfig config,
                 @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap,
                 @ConfigProperty(name = "mp.messaging.incoming.questions.topic", defaultValue = "pcw.questions") String questionsTopic) {
        GeneratorConfig.Topics topics = config.topics();
        if (!topics.create()) return;
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(p)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
            List<NewTopic> wanted = List.of(
                    new NewTopic(topics.manifests(), topics.partitions(), topics.replicationFactor()).configs(compacted),
                    new NewTopic(topics.windows(), topics.partitions(), topics.replicationFactor()).configs(compacted),
                    new NewTopic(topics.segments(), topics.partitions(), topics.replicationFactor()).configs(compacted),
                    new NewTopic(questionsTopic, topics.partitions(), topics.replicationFactor()),
                    new NewTopic(topics.answers(), topics.partitions(), topics.replicationFactor()),
                    new NewTopic(topics.questionsDlq(), 1, topics.replicationFactor()));
            List<NewTopic> missing = new ArrayList<>();
            for (NewTopic t : wanted) if (!existing.contains(t.name())) missing.add(t);
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
            throw new IllegalStateException("cannot create the generator's Kafka topics at " + bootstrap + ": " + e.getMessage(), e);
        }
    }
}
