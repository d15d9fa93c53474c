package dev.pcwmesh.chunker;

import org.eclipse.microprofile.config.ConfigProvider;
import dev.pcwmesh.service.KafkaSecurity;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.service.TopicFollower;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which windows of each document the encoders have published on {@code pcw.segments}, for Ingest's
 * {@code wait_until_encoded}. A {@link TopicFollower} reads the compacted topic from the beginning
 * (a document ingested again may be encoded already) and follows it; waiters on this object are
 * woken after every batch.
 */
@Startup
@ApplicationScoped
public class EncodedWindows {
    private static final Logger LOG = Logger.getLogger(EncodedWindows.class);

    private final Map<String, BitSet> windows = new HashMap<>();
    private final Map<String, Boolean> prefixes = new HashMap<>();
    private final TopicFollower follower;

    public EncodedWindows(ChunkerConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.follower = new TopicFollower(bootstrap, "pcw-chunker-segments", List.of(config.topics().segments()), this, this::apply,
                KafkaSecurity.properties(ConfigProvider.getConfig()));
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
    void close() {
        follower.close();
    }
}
