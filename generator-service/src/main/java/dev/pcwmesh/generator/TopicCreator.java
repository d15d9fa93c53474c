package dev.pcwmesh.generator;

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
        int partitions = topics.partitions();
        short rf = topics.replicationFactor();
        KafkaTopics.ensure(bootstrap, KafkaSecurity.properties(ConfigProvider.getConfig()), List.of(
                new NewTopic(topics.manifests(), partitions, rf).configs(KafkaTopics.COMPACTED),
                new NewTopic(topics.windows(), partitions, rf).configs(KafkaTopics.COMPACTED),
                new NewTopic(topics.segments(), partitions, rf).configs(KafkaTopics.COMPACTED),
                new NewTopic(questionsTopic, partitions, rf),
                new NewTopic(topics.answers(), partitions, rf),
                new NewTopic(topics.questionsDlq(), 1, rf)), name -> LOG.infof("created topic %s", name));
    }
}
