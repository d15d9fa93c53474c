package dev.pcwmesh.corpus;

import java.util.HashMap;
import java.util.Map;

/**
 * The mixer for a stream, where totals are never known: a unit shorter than {@code longMinTokens} is
 * kept with probability {@code shortKeep} (the same seeded draw as {@link Mixer}), and, when a target mix
 * is configured, a unit is left out while its domain is ahead of its share: it is admitted only when its
 * domain's tokens, with it, stay within {@code share × total + slack} (slack: one sequence), so the running
 * mix never strays from the target by more than one sequence's tokens per domain.
 */
public final class StreamingMixer {
    private final Map<String, Double> shares;
    private final double shortKeep;
    private final int longMinTokens;
    private final long seed;
    private final long slack;
    private final Map<String, Long> out = new HashMap<>();
    private long total;

    public StreamingMixer(Map<String, Double> target, double shortKeep, int longMinTokens, long seed, long slack) {
        if (target != null) {
            double sum = target.values().stream().mapToDouble(Double::doubleValue).sum();
            Map<String, Double> s = new HashMap<>();
            target.forEach((k, v) -> s.put(k, v / sum));
            this.shares = s;
        } else {
            this.shares = null;
        }
        this.shortKeep = shortKeep;
        this.longMinTokens = longMinTokens;
        this.seed = seed;
        this.slack = slack;
    }

    /** Whether the unit goes out; counts it when it does. */
    public boolean admit(String unitId, String domain, int packedLength) {
        if (packedLength < longMinTokens && Seeded.uniform(seed, "keep", unitId) >= shortKeep) return false;
        if (shares != null) {
            double share = shares.getOrDefault(domain, 0.0);
            if (share == 0) return false;
            long mine = out.getOrDefault(domain, 0L) + packedLength;
            if (mine > share * (total + packedLength) + slack) return false;
        }
        out.merge(domain, (long) packedLength, Long::sum);
        total += packedLength;
        return true;
    }

    public Map<String, Long> tokensPerDomain() { return Map.copyOf(out); }
}
