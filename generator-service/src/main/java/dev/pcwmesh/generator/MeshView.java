package dev.pcwmesh.generator;

import org.eclipse.microprofile.config.ConfigProvider;
import dev.pcwmesh.service.KafkaSecurity;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.service.TopicFollower;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What the mesh knows, read from the compacted topics: document manifests ({@code pcw.manifests}),
 * window tokens ({@code pcw.windows}) and where each window's segment lives ({@code pcw.segments}).
 *
 * <p>A {@link TopicFollower} reads all partitions of the three topics from the beginning at
 * start-up, without a consumer group: every generator instance needs the whole view, and a
 * restarted one rebuilds it from the topics, losing nothing. It then follows them as records
 * arrive, applying them under this object's monitor, which readers wait on.
 */
@Startup
@ApplicationScoped
public class MeshView {
    private static final Logger LOG = Logger.getLogger(MeshView.class);

    /** A document as the generator needs it: its manifest, its window tokens by index, and the segments encoders hold. */
    public record DocumentState(DocumentManifest manifest, Map<Integer, int[]> windows, Map<Integer, SegmentLocation> locations) {
        public boolean complete() { return windows.size() == manifest.getWindowCount(); }

        /** Every window's segment, and the prefix's when there is a prefix, are published by an encoder. */
        public boolean encoded() {
            boolean prefix = manifest.getPrefixTokensCount() == 0 || locations.containsKey(-1);
            return prefix && windowsEncoded() == manifest.getWindowCount();
        }

        public int windowsEncoded() {
            return (int) locations.keySet().stream().filter(i -> i >= 0 && i < manifest.getWindowCount()).count();
        }
    }

    private final GeneratorConfig.Topics topics;
    private final Map<String, DocumentManifest> manifests = new HashMap<>();
    private final Map<String, TreeMap<Integer, int[]>> windows = new HashMap<>();
    private final Map<String, TreeMap<Integer, SegmentLocation>> locationsByDocument = new HashMap<>();
    private final Map<String, SegmentLocation> locationsById = new HashMap<>();
    private final Admin admin;
    private final TopicFollower follower;

    public MeshView(GeneratorConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topics = config.topics();
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        a.put(AdminClientConfig.CLIENT_ID_CONFIG, "pcw-generator-view-offsets");
        this.admin = Admin.create(KafkaSecurity.apply(a, KafkaSecurity.properties(ConfigProvider.getConfig())));
        this.follower = new TopicFollower(bootstrap, "pcw-generator-view", List.of(topics.manifests(), topics.windows(), topics.segments()),
                this, this::apply, KafkaSecurity.properties(ConfigProvider.getConfig()));
    }

    private void apply(ConsumerRecord<String, byte[]> r) {
        try {
            if (r.topic().equals(topics.manifests())) {
                if (r.value() == null) manifests.remove(r.key());
                else {
                    DocumentManifest m = DocumentManifest.parseFrom(r.value());
                    manifests.put(m.getDocumentId(), m);
                }
            } else if (r.topic().equals(topics.windows())) {
                if (r.value() == null) return;   // tombstones of windows are left to the manifest's
                Window w = Window.parseFrom(r.value());
                windows.computeIfAbsent(w.getDocumentId(), k -> new TreeMap<>())
                        .put(w.getIndex(), w.getTokensList().stream().mapToInt(Integer::intValue).toArray());
            } else if (r.topic().equals(topics.segments())) {
                if (r.value() == null) return;
                SegmentLocation l = SegmentLocation.parseFrom(r.value());
                locationsByDocument.computeIfAbsent(l.getDocumentId(), k -> new TreeMap<>()).put(l.getWindowIndex(), l);
                locationsById.put(l.getSegmentId(), l);
            }
        } catch (InvalidProtocolBufferException e) {
            LOG.warnf("skipping an unreadable record %s-%d@%d: %s", r.topic(), r.partition(), r.offset(), e.getMessage());
        }
    }

    /** Null when the view has read the topics up to where they ended at start-up, else why not. */
    public String problem() { return follower.problem(); }

    /** Waits until the view has caught up with the topics; false if {@code deadlineNanos} (System.nanoTime) passes first. */
    public synchronized boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException {
        while (follower.problem() != null) {
            if (!waitUntil(deadlineNanos)) return false;
        }
        return true;
    }

    /** The document's state now, or null when no manifest names it. */
    public synchronized DocumentState document(String documentId) {
        DocumentManifest m = manifests.get(documentId);
        if (m == null) return null;
        Map<Integer, int[]> w = new TreeMap<>(windows.getOrDefault(documentId, new TreeMap<>()));
        w.keySet().removeIf(i -> i < 0 || i >= m.getWindowCount());
        Map<Integer, SegmentLocation> l = new TreeMap<>(locationsByDocument.getOrDefault(documentId, new TreeMap<>()));
        DocumentState state = new DocumentState(m, w, l);
        return new DocumentState(m.toBuilder().setWindowsEncoded(state.windowsEncoded()).build(), w, l);
    }

    /**
     * Waits until the document's windows have all arrived and, when {@code encoded}, until the
     * encoders have published every segment; returns its state then, or as it is when
     * {@code deadlineNanos} passes first (null when unknown).
     */
    public synchronized DocumentState await(String documentId, boolean encoded, long deadlineNanos) throws InterruptedException {
        while (true) {
            DocumentState s = document(documentId);
            if (s == null || (s.complete() && (!encoded || s.encoded()))) return s;
            if (!waitUntil(deadlineNanos)) return s;
        }
    }

    /**
     * Waits until the view has read the manifests topic up to its end as of now (the broker's
     * latest offsets), so a document whose Ingest has just returned is known; false if
     * {@code deadlineNanos} passes first.
     */
    public boolean awaitManifestsRead(long deadlineNanos) throws InterruptedException {
        Map<TopicPartition, Long> ends;
        try {
            var partitions = admin.describeTopics(List.of(topics.manifests())).allTopicNames().get(5, TimeUnit.SECONDS)
                    .get(topics.manifests()).partitions();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (var p : partitions) latest.put(new TopicPartition(topics.manifests(), p.partition()), OffsetSpec.latest());
            ends = new HashMap<>();
            for (var e : admin.listOffsets(latest).all().get(5, TimeUnit.SECONDS).entrySet()) ends.put(e.getKey(), e.getValue().offset());
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
        synchronized (this) {
            while (!follower.hasRead(ends)) {
                if (!waitUntil(deadlineNanos)) return false;
            }
        }
        return true;
    }

    /** Where the segment with this content id lives, or null when no encoder published it. */
    public synchronized SegmentLocation location(String segmentId) {
        return locationsById.get(segmentId);
    }

    /** Documents known now. */
    public synchronized int documents() { return manifests.size(); }

    private boolean waitUntil(long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) return false;
        wait(Math.max(1, left / 1_000_000));
        return true;
    }

    @PreDestroy
    void close() {
        follower.close();
        admin.close(Duration.ofSeconds(2));
    }
}
