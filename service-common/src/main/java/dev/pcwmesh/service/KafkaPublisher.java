package dev.pcwmesh.service;

import io.grpc.Status;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How a service writes to Kafka: one idempotent producer ({@code acks=all}) whose sends return only
 * when the broker has acknowledged every record (so a service acknowledges its own input only after
 * its output is safe), and a cached check that the broker answers, for readiness.
 */
public final class KafkaPublisher implements AutoCloseable {
    private static final long SEND_TIMEOUT_S = 30;

    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private volatile long checkedAt;
    private volatile String problem = "not checked yet";

    /** A publisher to the broker at {@code bootstrap}; {@code clientId} names it in the broker's logs. */
    public KafkaPublisher(String bootstrap, String clientId) {
        this(bootstrap, clientId, Map.of());
    }

    /** A publisher whose producer and admin client also get {@code security} ({@link KafkaSecurity}). */
    public KafkaPublisher(String bootstrap, String clientId, Map<String, String> security) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1 << 20);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(SEND_TIMEOUT_S));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(SEND_TIMEOUT_S));
        KafkaSecurity.apply(p, security);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        a.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId + "-health");
        this.admin = Admin.create(KafkaSecurity.apply(a, security));
    }

    /** Sends the records and waits for every acknowledgement; UNAVAILABLE (KAFKA_UNAVAILABLE) when that fails. */
    public void send(List<ProducerRecord<String, byte[]>> records) {
        List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
        for (ProducerRecord<String, byte[]> r : records) sent.add(producer.send(r));
        try {
            for (Future<RecordMetadata> f : sent) f.get(SEND_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Rejected(Status.Code.UNAVAILABLE, "INTERRUPTED", "interrupted while publishing to Kafka", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new Rejected(Status.Code.UNAVAILABLE, "KAFKA_UNAVAILABLE", "publishing to Kafka failed: " + e.getMessage(), e);
        }
    }

    public void send(String topic, String key, byte[] value) {
        send(List.of(new ProducerRecord<>(topic, key, value)));
    }

    /** A record that could not be processed, unchanged, to a dead-letter topic with its reason in headers. */
    public void deadLetter(String topic, String key, byte[] value, Map<String, String> headers) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, key, value);
        headers.forEach((k, v) -> r.headers().add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
        send(List.of(r));
    }

    /**
     * The headers of a dead letter for {@code record}: {@code dead-letter-reason} (the message),
     * {@code pcw-reason} (the short reason), {@code pcw-status} (the gRPC status the input would have
     * had) and where it came from ({@code dead-letter-topic}, {@code -partition}, {@code -offset}).
     */
    public static Map<String, String> deadLetterHeaders(Rejected why, ConsumerRecord<?, ?> record) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("dead-letter-reason", why.getMessage());
        headers.put("pcw-reason", why.reason());
        headers.put("pcw-status", why.code().name());
        headers.put("dead-letter-topic", record.topic());
        headers.put("dead-letter-partition", Integer.toString(record.partition()));
        headers.put("dead-letter-offset", Long.toString(record.offset()));
        return headers;
    }

    /** Null when the broker answered a metadata request within 2 s (checked at most every 5 s while healthy), else what went wrong. */
    public String problem() {
        long now = System.nanoTime();
        if (now - checkedAt > TimeUnit.SECONDS.toNanos(5) || problem != null) {
            try {
                admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                problem = null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem = "interrupted";
            } catch (ExecutionException | TimeoutException e) {
                problem = "Kafka unreachable: " + e;
            }
            checkedAt = now;
        }
        return problem;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(2));
    }
}
