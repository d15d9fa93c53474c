package dev.pcwmesh.encoder;

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
 * Creates the encoder's topics when they are missing ({@code pcw.topics.create}), before the messaging
 * channels start: windows (in case the encoder starts before the chunker) and segments with
 * {@code pcw.topics.partitions} partitions, both compacted (each key names one window or one
 * document's prefix, so compaction keeps the latest of each), and the dead-letter topic with one
 * partition. The settings match the other services', so it does not matter which creates them.
 */
@ApplicationScoped
public class TopicCreator {
    private static final Logger LOG = Logger.getLogger(TopicCreator.class);

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event, EncoderConfig config,
                 @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap,
                 @ConfigProperty(name = "mp.messaging.incoming.windows.topic", defaultValue = "pcw.windows") String windowsTopic) {
        EncoderConfig.Topics topics = config.topics();
        if (!topics.create()) return;
        int partitions = topics.partitions();
        short rf = topics.replicationFactor();
        KafkaTopics.ensure(bootstrap, KafkaSecurity.properties(ConfigProvider.getConfig()), List.of(
                new NewTopic(windowsTopic, partitions, rf).configs(KafkaTopics.COMPACTED),
                new NewTopic(topics.segments(), partitions, rf).configs(KafkaTopics.COMPACTED),
                new NewTopic(topics.windowsDlq(), 1, rf)), name -> LOG.infof("created topic %s", name));
    }
}
