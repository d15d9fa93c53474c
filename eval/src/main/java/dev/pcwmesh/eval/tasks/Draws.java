package dev.pcwmesh.eval.tasks;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Names and values for one sample, drawn from the held-out pools with the sample's random source.
 * Within a sample every person, place, code and number is new, so no question has two right answers
 * and no distractor repeats an answer.
 */
public final class Draws {
    private static final int TRIES = 10_000;

    private final Random rng;
    private final NamePools pools;
    private final Set<String> used = new HashSet<>();

    public Draws(Random rng, NamePools pools) {
        this.rng = rng;
        this.pools = pools;
    }

    public Random rng() { return rng; }

    /** Any element, repeats allowed (relation vocabulary, professions, times...). */
    public String any(List<String> pool) {
        return pool.get(rng.nextInt(pool.size()));
    }

    /** "First Surname", not used before in this sample. */
    public String person() {
        return unique(() -> any(pools.firstNames()) + " " + any(pools.surnames()));
    }

    /** A place not used before in this sample as a key. */
    public String place() {
        return unique(() -> any(pools.places()));
    }

    /** A code in the demo corpus's format, PREFIX-DDDD. */
    public String code() {
        return unique(() -> any(pools.codePrefixes()) + "-" + "%04d".formatted(rng.nextInt(10_000)));
    }

    /** A number of exactly {@code digits} digits (no leading zero). */
    public String number(int digits) {
        int low = (int) Math.pow(10, digits - 1);
        return unique(() -> Integer.toString(low + rng.nextInt(9 * low)));
    }

    /** A variable name of five capital letters. */
    public String variable() {
        return unique(() -> {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 5; i++) s.append((char) ('A' + rng.nextInt(26)));
            return s.toString();
        });
    }

    public NamePools pools() { return pools; }

    /** Marks a string as taken (for values drawn with {@link #any}). */
    public boolean claim(String s) {
        return used.add(s);
    }

    private String unique(Supplier<String> draw) {
        for (int i = 0; i < TRIES; i++) {
            String s = draw.get();
            if (used.add(s)) return s;
        }
        throw new IllegalStateException("the held-out pools ran out of new names or values for one sample; use a shorter length");
    }
}
