package dev.pcwmesh.corpus;

import java.nio.charset.StandardCharsets;

/**
 * Deterministic randomness from a seed and a name: the same run's seed and a document's id always
 * give the same draw, whatever the order documents arrive in or how many threads read them.
 */
public final class Seeded {
    private Seeded() {}

    /** SplitMix64's finaliser. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A 64-bit hash of {@code s} (FNV-1a over UTF-8, then mixed). */
    public static long hash(String s) {
        long h = 0xCBF29CE484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001B3L;
        }
        return mix(h);
    }

    /** A uniform draw in [0, 1) for {@code name} under {@code seed} and {@code stream} (independent streams per use). */
    public static double uniform(long seed, String stream, String name) {
        long h = mix(seed ^ hash(stream) * 31 ^ hash(name));
        return (h >>> 11) * 0x1.0p-53;
    }
}
