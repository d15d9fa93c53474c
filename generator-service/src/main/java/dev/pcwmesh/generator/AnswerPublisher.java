package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.AnswerRecord;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes answers ({@code pcw.answers}, key = request id) and unreadable questions
 * ({@code pcw.questions.dlq}, with reason headers) through one idempotent producer; each send
 * returns once the broker has acknowledged it, so a question's offset is committed only after its
 * answer is safe.
 */
@ApplicationScoped
public class AnswerPublisher {
    private final GeneratorConfig.Topics topics;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;

    public AnswerPublisher(GeneratorConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topics = config.topics();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "pcw-generator");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        a.put(AdminClientConfig.CLIENT_ID_CONFIG, "pcw-generator-health");
        this.admin = Admin.create(a);
    }

    public void answer(AnswerRecord answer) throws ExecutionException, TimeoutException, InterruptedException {
        producer.send(new ProducerRecord<>(topics.answers(), answer.getRequestId(), answer.toByteArray())).get(30, TimeUnit.SECONDS);
    }

    public void deadLetter(String key, byte[] value, Map<String, String> headers) throws ExecutionException, TimeoutException, InterruptedException {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topics.questionsDlq(), key, value);
        headers.forEach((k, v) -> r.headers().add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
        producer.send(r).get(30, TimeUnit.SECONDS);
    }

    /** Null when the broker answered a metadata request within 2 s, else what went wrong. */
    public String kafkaProblem() {
        try {
            admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (ExecutionException | TimeoutException e) {
            return "Kafka unreachable: " + e;
        }
    }

    @PreDestroy
    void close() {
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(2));
    }
}
