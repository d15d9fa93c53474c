package dev.pcwmesh.generator;

import org.eclipse.microprofile.config.ConfigProvider;
import dev.pcwmesh.service.KafkaSecurity;
import dev.pcwmesh.proto.v1.AnswerRecord;
import dev.pcwmesh.service.KafkaPublisher;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Map;

/**
 * Writes answers ({@code pcw.answers}, key = request id) and unreadable questions
 * ({@code pcw.questions.dlq}, with reason headers); each send returns once the broker has
 * acknowledged it, so a question's offset is committed only after its answer is safe.
 */
@ApplicationScoped
public class AnswerPublisher {
    private final GeneratorConfig.Topics topics;
    private final KafkaPublisher kafka;

    public AnswerPublisher(GeneratorConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topics = config.topics();
        this.kafka = new KafkaPublisher(bootstrap, "pcw-generator", KafkaSecurity.properties(ConfigProvider.getConfig()));
    }

    public void answer(AnswerRecord answer) {
        kafka.send(topics.answers(), answer.getRequestId(), answer.toByteArray());
    }

    public void deadLetter(String key, byte[] value, Map<String, String> headers) {
        kafka.deadLetter(topics.questionsDlq(), key, value, headers);
    }

    /** Null when the broker answers, else what went wrong. */
    public String kafkaProblem() {
        return kafka.problem();
    }

    @PreDestroy
    void close() {
        kafka.close();
    }
}
