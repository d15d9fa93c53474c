package dev.pcwmesh.encoder;

import dev.pcwmesh.proto.v1.SegmentLocation;
import io.grpc.Status;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes to Kafka: segment locations ({@code pcw.segments}, compacted, key {@code {documentId}/{index}}
 * or {@code {documentId}/prefix}) and dead letters ({@code pcw.windows.dlq}), through one idempotent
 * producer ({@code acks=all}). Both methods return only when the broker has acknowledged every record:
 * the windows consumer acknowledges its input record (and so lets its offset be committed) only after
 * that, so an encoder killed in between encodes the window again after its restart.
 */
@Startup
@ApplicationScoped
public class LocationPublisher {
    private static final long SEND_TIMEOUT_S = 30;

    private final EncoderConfig.Topics topics;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private volatile long checkedAt;
    private volatile String kafkaProblem = "not checked yet";

    public LocationPublisher(EncoderConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topics = config.topics();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "pcw-encoder");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(SEND_TIMEOUT_S));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(SEND_TIMEOUT_S));
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        a.put(AdminClientConfig.CLIENT_ID_CONFIG, "pcw-encoder-health");
        this.admin = Admin.create(a);
    }

    /** The key of a window's location: {@code {documentId}/{index}}, the same as its window's key on {@code pcw.windows}. */
    public static String windowKey(String documentId, int index) {
        return documentId + "/" + index;
    }

    /** The key of a document's prefix location: {@code {documentId}/prefix}. */
    public static String prefixKey(String documentId) {
        return documentId + "/prefix";
    }

    /** Null when the broker answered a metadata request within 2 s (checked at most every 5 s), else what went wrong. */
    public String kafkaProblem() {
        long now = System.nanoTime();
        if (now - checkedAt > TimeUnit.SECONDS.toNanos(5) || kafkaProblem != null) {
            try {
                admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                kafkaProblem = null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kafkaProblem = "interrupted";
            } catch (ExecutionException | TimeoutException e) {
                kafkaProblem = "Kafka unreachable: " + e;
            }
            checkedAt = now;
        }
        return kafkaProblem;
    }

    /** Publishes locations (keyed by {@link #prefixKey} for window index -1, else {@link #windowKey}) and waits for every acknowledgement. */
    public void publish(List<SegmentLocation> locations) {
        List<Future<RecordMetadata>> sent = new ArrayList<>(locations.size());
        for (SegmentLocation l : locations) {
            String key = l.getWindowIndex() < 0 ? prefixKey(l.getDocumentId()) : windowKey(l.getDocumentId(), l.getWindowIndex());
            sent.add(producer.send(new ProducerRecord<>(topics.segments(), key, l.toByteArray())));
        }
        await(sent);
    }

    /** A window that could not be encoded, unchanged, with its reason in headers. */
    public void deadLetter(String key, byte[] value, Map<String, String> headers) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topics.windowsDlq(), key, value);
        headers.forEach((k, v) -> r.headers().add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
        await(List.of(producer.send(r)));
    }

    private static void await(List<Future<RecordMetadata>> futures) {
        try {
            for (Future<RecordMetadata> f : futures) f.get(SEND_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Rejected(Status.Code.UNAVAILABLE, "INTERRUPTED", "interrupted while publishing to Kafka", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new Rejected(Status.Code.UNAVAILABLE, "KAFKA_UNAVAILABLE", "publishing to Kafka failed: " + e.getMessage(), e);
        }
    }

    @PreDestroy
    void close() {
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(2));
    }
}
