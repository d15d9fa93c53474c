package dev.pcwmesh.corpus;

import java.util.Arrays;
import java.util.Locale;

/**
 * MinHash signatures over word shingles: the fraction of equal entries of two signatures estimates the
 * Jaccard similarity of the two documents' shingle sets. Shingles are {@code shingle} consecutive words,
 * lower case, letters and digits only; each of the {@code permutations} hash functions is a mixing of the
 * shingle's 64-bit hash with its own seed.
 */
public final class MinHash {
    private final int permutations;
    private final int shingle;
    private final long[] seeds;

    public MinHash(int permutations, int shingle, long seed) {
        if (permutations < 1 || shingle < 1) throw new IllegalArgumentException("permutations and shingle must be positive");
        this.permutations = permutations;
        this.shingle = shingle;
        this.seeds = new long[permutations];
        for (int i = 0; i < permutations; i++) seeds[i] = Seeded.mix(seed * 0x9E3779B97F4A7C15L + i + 1);
    }

    public int permutations() { return permutations; }

    /** The signature of {@code text}; a text of fewer words than a shingle has one shingle of all its words. */
    public long[] signature(String text) {
        String[] words = Arrays.stream(text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")).filter(w -> !w.isEmpty()).toArray(String[]::new);
        long[] sig = new long[permutations];
        Arrays.fill(sig, Long.MAX_VALUE);
        int n = Math.max(1, words.length - shingle + 1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.setLength(0);
            for (int k = i; k < Math.min(words.length, i + shingle); k++) b.append(words[k]).append(' ');
            long h = Seeded.hash(b.toString());
            for (int p = 0; p < permutations; p++) {
                long v = Seeded.mix(h ^ seeds[p]);
                if (Long.compareUnsigned(v, sig[p]) < 0) sig[p] = v;
            }
        }
        return sig;
    }

    /** The estimated Jaccard similarity: equal entries per entry. */
    public static double similarity(long[] a, long[] b) {
        int same = 0;
        for (int i = 0; i < a.length; i++) if (a[i] == b[i]) same++;
        return (double) same / a.length;
    }
}
