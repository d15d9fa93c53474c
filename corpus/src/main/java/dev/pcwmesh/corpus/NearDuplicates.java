package dev.pcwmesh.corpus;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * MinHash LSH near-duplicate removal: signatures cut into {@code bands} bands of {@code rows} rows; a
 * document whose band hashes meet a kept document's in some band is a candidate, and a duplicate when
 * the two signatures' estimated Jaccard similarity reaches {@code threshold}. With the defaults (128
 * permutations, 16 bands of 8 rows) a pair at similarity 0.8 becomes a candidate with probability
 * 1 − (1 − 0.8⁸)¹⁶ ≈ 0.94, and at 0.5 with probability 0.06.
 *
 * <p>Memory is bounded: the index keeps the last {@code capacity} kept documents (about
 * {@code 8 × (permutations + bands)} bytes each) and forgets the oldest beyond that.
 */
public final class NearDuplicates {
    /** A kept document's signature and id. */
    private record Entry(String id, long[] signature, long[] bandKeys) {}

    private final MinHash minHash;
    private final int bands, rows;
    private final double threshold;
    private final int capacity;
    private final List<Map<Long, List<Entry>>> index = new ArrayList<>();
    private final ArrayDeque<Entry> order = new ArrayDeque<>();

    public NearDuplicates(MinHash minHash, int bands, double threshold, int capacity) {
        if (minHash.permutations() % bands != 0) throw new IllegalArgumentException("permutations (" + minHash.permutations() + ") must be a multiple of bands (" + bands + ")");
        this.minHash = minHash;
        this.bands = bands;
        this.rows = minHash.permutations() / bands;
        this.threshold = threshold;
        this.capacity = capacity;
        for (int b = 0; b < bands; b++) index.add(new HashMap<>());
    }

    /**
     * Null when {@code text} is new (it is then remembered under {@code id}), else the id of the kept
     * document it nearly duplicates and their estimated similarity.
     */
    public Match offer(String id, String text) {
        long[] sig = minHash.signature(text);
        long[] keys = new long[bands];
        for (int b = 0; b < bands; b++) {
            long h = b;
            for (int r = 0; r < rows; r++) h = Seeded.mix(h * 31 + sig[b * rows + r]);
            keys[b] = h;
        }
        Match best = null;
        for (int b = 0; b < bands; b++) {
            List<Entry> bucket = index.get(b).get(keys[b]);
            if (bucket == null) continue;
            for (Entry e : bucket) {
                double s = MinHash.similarity(sig, e.signature());
                if (s >= threshold && (best == null || s > best.similarity())) best = new Match(e.id(), s);
            }
        }
        if (best != null) return best;
        Entry entry = new Entry(id, sig, keys);
        for (int b = 0; b < bands; b++) index.get(b).computeIfAbsent(keys[b], k -> new ArrayList<>(1)).add(entry);
        order.add(entry);
        if (order.size() > capacity) forget(order.removeFirst());
        return null;
    }

    public int size() { return order.size(); }

    private void forget(Entry e) {
        for (int b = 0; b < bands; b++) {
            List<Entry> bucket = index.get(b).get(e.bandKeys()[b]);
            if (bucket == null) continue;
            bucket.remove(e);
            if (bucket.isEmpty()) index.get(b).remove(e.bandKeys()[b]);
        }
    }

    /** The kept document a new one duplicates. */
    public record Match(String id, double similarity) {}
}
