package dev.pcwmesh.chunker;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.pcwmesh.proto.v1.SegmentLocation;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Which windows of each document the encoders have published on {@code pcw.segments}, for Ingest's
 * {@code wait_until_encoded}. One thread reads every partition of the compacted topic from the
 * beginning (no consumer group: the whole history, since a document ingested again may be encoded
 * already) and follows it; waiters are woken after every batch.
 */
@Startup
@ApplicationScoped
public class EncodedWindows {
    private static final Logger LOG = Logger.getLogger(EncodedWindows.class);

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private final Map<String, BitSet> windows = new HashMap<>();
    private final Map<String, Boolean> prefixes = new HashMap<>();
    private volatile boolean running = true;

    public EncodedWindows(ChunkerConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topic = config.topics().segments();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "pcw-chunker-segments");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = Thread.ofPlatform().name("pcw-encoded-windows").daemon().start(this::run);
    }

    private void run() {
        try {
            List<PartitionInfo> infos = List.of();
            while (infos.isEmpty()) {          // the encoders create the topic; until then nothing is encoded
                if (!running) return;
                try {
                    infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                } catch (TimeoutException e) {
                    infos = List.of();
                }
                if (infos.isEmpty()) Thread.sleep(1000);
            }
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                var records = consumer.poll(Duration.ofMillis(200));
                synchronized (this) {
                    for (ConsumerRecord<String, byte[]> r : records) apply(r);
                    notifyAll();
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("stopped reading " + topic + "; Ingest with wait_until_encoded will time out", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void apply(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) return;
        try {
            SegmentLocation l = SegmentLocation.parseFrom(r.value());
            if (l.getWindowIndex() < 0) prefixes.put(l.getDocumentId(), true);
            else windows.computeIfAbsent(l.getDocumentId(), k -> new BitSet()).set(l.getWindowIndex());
        } catch (InvalidProtocolBufferException e) {
            LOG.warnf("skipping an unreadable record %s-%d@%d", r.topic(), r.partition(), r.offset());
        }
    }

    /**
     * Waits until windows 0..windowCount-1 of the document (and its prefix, when it has one) are
     * encoded, or until {@code deadlineNanos} (System.nanoTime); returns how many windows are encoded then.
     */
    public synchronized int await(String documentId, int windowCount, boolean hasPrefix, long deadlineNanos) throws InterruptedException {
        while (true) {
            BitSet w = windows.getOrDefault(documentId, new BitSet());
            int encoded = w.get(0, windowCount).cardinality();
            boolean prefix = !hasPrefix || prefixes.getOrDefault(documentId, false);
            if (encoded == windowCount && prefix) return encoded;
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) return encoded;
            wait(Math.max(1, left / 1_000_000));
        }
    }

    @PreDestroy
    void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(5000);
    }
}
