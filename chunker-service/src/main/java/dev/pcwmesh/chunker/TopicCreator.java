package dev.pcwmesh.chunker;

import org.eclipse.microprofile.config.ConfigProvider;
import dev.pcwmesh.service.KafkaSecurity;
import dev.pcwmesh.service.KafkaTopics;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.apache.kafka.clients.admin.NewTopic;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * Creates the chunker's topics when they are missing ({@code pcw.topics.create}), before the messaging
 * channels start: windows and documents with {@code pcw.topics.partitions} partitions, windows and
 * manifests compacted, the dead-letter topic with one. The settings match the other services', so it
 * does not matter which service creates a shared topic.
 */
@ApplicationScoped
public class TopicCreator {
    private static final Logger LOG = Logger.getLogger(TopicCreator.class);

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event, ChunkerConfig config,
                 @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap,
                 @ConfigProperty(name = "mp.messaging.incoming.documents.topic", defaultValue = "pcw.documents") String documentsTopic) {
        ChunkerConfig.Topics topics = config.topics();
        if (!topics.create()) return;
        int partitions = topics.partitions();
        short rf = topics.replicationFactor();
        KafkaTopics.ensure(bootstrap, KafkaSecurity.properties(ConfigProvider.getConfig()), List.of(
                new NewTopic(topics.windows(), partitions, rf).configs(KafkaTopics.COMPACTED),
                new NewTopic(topics.manifests(), partitions, rf).configs(KafkaTopics.COMPACTED),
                new NewTopic(documentsTopic, partitions, rf),
                new NewTopic(topics.documentsDlq(), 1, rf)), name -> LOG.infof("created topic %s", name));
    }
}
