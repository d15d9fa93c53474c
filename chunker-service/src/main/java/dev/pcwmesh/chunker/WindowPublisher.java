package dev.pcwmesh.chunker;

import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.Window;
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
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes to Kafka: windows ({@code pcw.windows}, compacted, key {@code {documentId}/{index}}), manifests
 * ({@code pcw.manifests}, compacted) and dead letters ({@code pcw.documents.dlq}), both keyed by document id,
 * through one idempotent producer ({@code acks=all}). A window's key names the window, not the document,
 * so the windows of one document spread over the partitions and hence over all the encoders of the
 * {@code pcw-encoder} group, and compaction keeps the last copy of each window. {@link #publish} returns only when every record is acknowledged, manifest last:
 * a manifest on the topic means its windows are there too.
 */
@Startup
@ApplicationScoped
public class WindowPublisher {
    private static final Logger LOG = Logger.getLogger(WindowPublisher.class);
    private static final long SEND_TIMEOUT_S = 30;

    private final ChunkerConfig.Topics topics;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private volatile long checkedAt;
    private volatile String kafkaProblem = "not checked yet";

    public WindowPublisher(ChunkerConfig config,
                           @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topics = config.topics();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "pcw-chunker");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1 << 20);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(SEND_TIMEOUT_S));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(SEND_TIMEOUT_S));
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        a.put(AdminClientConfig.CLIENT_ID_CONFIG, "pcw-chunker-health");
        this.admin = Admin.create(a);
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

    /** Every window, then the manifest; waits for all acknowledgements. */
    public void publish(DocumentManifest manifest, List<Window> windows) {
        String id = manifest.getDocumentId();
        List<Future<RecordMetadata>> sent = new ArrayList<>(windows.size());
        for (Window w : windows) sent.add(producer.send(new ProducerRecord<>(topics.windows(), windowKey(id, w.getIndex()), w.toByteArray())));
        await(sent);
        await(List.of(producer.send(new ProducerRecord<>(topics.manifests(), id, manifest.toByteArray()))));
    }

    /** The key of a window's record on {@code pcw.windows}: {@code {documentId}/{index}}. */
    public static String windowKey(String documentId, int index) {
        return documentId + "/" + index;
    }

    /** A record of the documents topic that could not be ingested, with its reason in headers (SmallRye's dead-letter names plus pcw-*). */
    public void deadLetter(String key, byte[] value, Map<String, String> headers) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topics.documentsDlq(), key, value);
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
        producer.close(java.time.Duration.ofSeconds(5));
        admin.close(java.time.Duration.ofSeconds(2));
    }
}
