package dev.pcwmesh.corpus;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which input offsets may be committed: a record is pending from the moment it is read until what it
 * became is acknowledged on the output topic (or it was rejected, dead-lettered or left out by the
 * mixer). A partition's committable offset is its lowest pending offset, or one past the last record
 * read when none is pending, so a restart re-reads exactly what was not yet safely written.
 */
public final class PendingOffsets {
    /** One input record. */
    public record Ref(TopicPartition partition, long offset) {}

    private final Map<TopicPartition, TreeMap<Long, Integer>> pending = new HashMap<>();
    private final Map<TopicPartition, Long> next = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    /** A record was read; it is pending until {@link #done}. */
    public void read(Ref r) {
        pending.computeIfAbsent(r.partition(), p -> new TreeMap<>()).merge(r.offset(), 1, Integer::sum);
        next.merge(r.partition(), r.offset() + 1, Math::max);
    }

    /** What the record became is safe (or it became nothing). */
    public void done(Ref r) {
        TreeMap<Long, Integer> m = pending.get(r.partition());
        if (m == null) return;
        m.computeIfPresent(r.offset(), (k, v) -> v > 1 ? v - 1 : null);
    }

    /** The offsets to commit now: those that moved since the last call. */
    public Map<TopicPartition, OffsetAndMetadata> toCommit() {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (var e : next.entrySet()) {
            TreeMap<Long, Integer> m = pending.get(e.getKey());
            long at = m == null || m.isEmpty() ? e.getValue() : m.firstKey();
            if (!committed.containsKey(e.getKey()) || committed.get(e.getKey()) < at) {
                out.put(e.getKey(), new OffsetAndMetadata(at));
                committed.put(e.getKey(), at);
            }
        }
        return out;
    }

    /** Whether any record is still pending. */
    public boolean any() {
        for (TreeMap<Long, Integer> m : pending.values()) if (!m.isEmpty()) return true;
        return false;
    }

    /** Forgets a partition taken away by a rebalance. */
    public void forget(TopicPartition p) {
        pending.remove(p);
        next.remove(p);
        committed.remove(p);
    }
}
