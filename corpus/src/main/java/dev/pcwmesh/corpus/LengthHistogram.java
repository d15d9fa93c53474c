package dev.pcwmesh.corpus;

import java.util.LinkedHashMap;
import java.util.Map;

/** Counts of lengths (tokens) in power-of-two buckets, from under 64 to 131,072 and more. */
public final class LengthHistogram {
    static final int FIRST = 6, LAST = 17;
    private final long[] counts = new long[LAST - FIRST + 2];

    public void add(long length) {
        int b;
        if (length < (1L << FIRST)) b = 0;
        else b = Math.min(LAST - FIRST + 1, 63 - Long.numberOfLeadingZeros(length) - FIRST + 1);
        counts[b]++;
    }

    public long total() {
        long n = 0;
        for (long c : counts) n += c;
        return n;
    }

    /** Bucket label → count, in order: {@code <64}, {@code 64-127}, ..., {@code >=131072}. */
    public Map<String, Long> buckets() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int b = 0; b < counts.length; b++) m.put(label(b), counts[b]);
        return m;
    }

    static String label(int b) {
        if (b == 0) return "<" + (1 << FIRST);
        if (b == LAST - FIRST + 1) return ">=" + (1 << LAST);
        long lo = 1L << (FIRST + b - 1);
        return lo + "-" + (2 * lo - 1);
    }
}
