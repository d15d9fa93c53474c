package dev.pcwmesh.corpus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Decides which units go into the output, following Fu et al. (2024): keep the domain mix (by default
 * the input's own; or a configured one) and, within each domain, upsample long units by keeping a unit
 * shorter than {@code longMinTokens} only with probability {@code shortKeep}.
 *
 * <p>First each unit is a candidate or not: long units always, short ones when their seeded draw is below
 * {@code shortKeep}. Then the output budget B (tokens) is the largest that every domain's candidates can
 * fill at its target share ({@code min_d candidates_d / share_d}), or the configured budget when smaller.
 * Domain d gets exactly {@code round(B × share_d)} tokens (largest remainders, so the budgets add up to
 * B): its candidates in the order of a second seeded draw, until the budget is reached; the last one
 * taken is cut to fit exactly. Memory: 24 bytes per unit; texts and tokens stay on disk.
 */
public final class Mixer {
    private final List<String> domains = new ArrayList<>();
    private final Map<String, Integer> domainIndex = new LinkedHashMap<>();
    private int[] domain = new int[1024];
    private int[] length = new int[1024];
    private double[] keepDraw = new double[1024];
    private double[] orderDraw = new double[1024];
    private int units;
    private final long seed;

    public Mixer(long seed) {
        this.seed = seed;
    }

    /** Records the next unit (units are numbered in the order they are added). */
    public void add(String unitId, String unitDomain, int packedLength) {
        if (units == domain.length) {
            int n = units * 2;
            domain = Arrays.copyOf(domain, n);
            length = Arrays.copyOf(length, n);
            keepDraw = Arrays.copyOf(keepDraw, n);
            orderDraw = Arrays.copyOf(orderDraw, n);
        }
        domain[units] = domainIndex.computeIfAbsent(unitDomain, d -> { domains.add(d); return domains.size() - 1; });
        length[units] = packedLength;
        keepDraw[units] = Seeded.uniform(seed, "keep", unitId);
        orderDraw[units] = Seeded.uniform(seed, "order", unitId);
        units++;
    }

    public int units() { return units; }

    /**
     * The decision.
     *
     * @param target        domain → share (normalised here), or null for the input's own mix
     * @param budget        output tokens wanted, or null for the most the candidates allow
     * @param shortKeep     probability of keeping a unit shorter than {@code longMinTokens}
     * @param longMinTokens packed length from which a unit counts as long
     */
    public Plan plan(Map<String, Double> target, Long budget, double shortKeep, int longMinTokens) {
        int nd = domains.size();
        long[] input = new long[nd], candidates = new long[nd];
        boolean[] candidate = new boolean[units];
        for (int i = 0; i < units; i++) {
            input[domain[i]] += length[i];
            candidate[i] = length[i] >= longMinTokens || keepDraw[i] < shortKeep;
            if (candidate[i]) candidates[domain[i]] += length[i];
        }
        long inputTotal = Arrays.stream(input).sum();
        double[] share = new double[nd];
        Map<String, Double> shares = new TreeMap<>();
        if (target == null) {
            for (int d = 0; d < nd; d++) share[d] = inputTotal == 0 ? 0 : (double) input[d] / inputTotal;
        } else {
            double sum = 0;
            for (var e : target.entrySet()) {
                if (e.getValue() < 0) throw new IllegalArgumentException("the share of domain " + e.getKey() + " is negative");
                if (e.getValue() > 0 && !domainIndex.containsKey(e.getKey())) {
                    throw new IllegalArgumentException("domain '" + e.getKey() + "' of the mix has no documents (domains found: " + String.join(", ", domains) + ")");
                }
                sum += e.getValue();
            }
            if (sum <= 0) throw new IllegalArgumentException("the mix's shares add up to 0");
            for (int d = 0; d < nd; d++) share[d] = target.getOrDefault(domains.get(d), 0.0) / sum;
        }
        for (int d = 0; d < nd; d++) shares.put(domains.get(d), share[d]);

        double most = Double.POSITIVE_INFINITY;
        for (int d = 0; d < nd; d++) if (share[d] > 0) most = Math.min(most, candidates[d] / share[d]);
        if (most == Double.POSITIVE_INFINITY) most = 0;
        long total = (long) Math.floor(most + 1e-6);
        boolean limitedByData = budget == null || budget >= total;
        if (budget != null) total = Math.min(total, budget);

        // Per-domain budgets: floors, then the largest remainders, never above a domain's candidates.
        long[] budgets = new long[nd];
        double[] remainder = new double[nd];
        long assigned = 0;
        for (int d = 0; d < nd; d++) {
            double exact = total * share[d];
            budgets[d] = Math.min(candidates[d], (long) Math.floor(exact + 1e-9));
            remainder[d] = exact - budgets[d];
            assigned += budgets[d];
        }
        Integer[] byRemainder = new Integer[nd];
        for (int d = 0; d < nd; d++) byRemainder[d] = d;
        Arrays.sort(byRemainder, (a, b) -> Double.compare(remainder[b], remainder[a]));
        for (int k = 0; assigned < total && k < nd; k++) {
            int d = byRemainder[k];
            if (share[d] > 0 && budgets[d] < candidates[d]) { budgets[d]++; assigned++; }
        }

        // Candidates per domain in the order of the second draw, until each budget is met.
        int[] take = new int[units];
        Integer[] order = new Integer[units];
        for (int i = 0; i < units; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> {
            int c = Double.compare(orderDraw[a], orderDraw[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        long[] used = new long[nd];
        int cut = 0;
        for (int i : order) {
            if (!candidate[i]) continue;
            int d = domain[i];
            long room = budgets[d] - used[d];
            if (room <= 0) continue;
            take[i] = (int) Math.min(length[i], room);
            if (take[i] < length[i]) cut++;
            used[d] += take[i];
        }

        Map<String, Long> inputTokens = new TreeMap<>(), candidateTokens = new TreeMap<>(), outputTokens = new TreeMap<>();
        for (int d = 0; d < nd; d++) {
            inputTokens.put(domains.get(d), input[d]);
            candidateTokens.put(domains.get(d), candidates[d]);
            outputTokens.put(domains.get(d), used[d]);
        }
        int shortUnits = 0, shortKept = 0, longUnits = 0, longKept = 0;
        for (int i = 0; i < units; i++) {
            boolean isLong = length[i] >= longMinTokens;
            if (isLong) { longUnits++; if (take[i] > 0) longKept++; } else { shortUnits++; if (take[i] > 0) shortKept++; }
        }
        return new Plan(take, shares, inputTokens, candidateTokens, outputTokens, total, limitedByData, cut,
                shortUnits, shortKept, longUnits, longKept);
    }

    /**
     * @param take            per unit (in the order added), packed tokens to take; 0 leaves it out
     * @param shares          the target share per domain
     * @param inputTokens     packed tokens per domain before sampling
     * @param candidateTokens after the length-based sampling
     * @param outputTokens    taken, per domain (they add up to {@code budget})
     * @param limitedByData   whether the budget is the most the candidates allowed (else the configured one)
     * @param cut             units cut to fill a budget exactly
     */
    public record Plan(int[] take, Map<String, Double> shares, Map<String, Long> inputTokens, Map<String, Long> candidateTokens,
                       Map<String, Long> outputTokens, long budget, boolean limitedByData, int cut,
                       int shortUnits, int shortKept, int longUnits, int longKept) {}

    /** {@code web=0.5,books=0.3,code=0.2} as a map (shares need not add up to 1). */
    public static Map<String, Double> parseMix(String spec) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            if (part.isBlank()) continue;
            int eq = part.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("a mix is DOMAIN=SHARE,...; got '" + part + "'");
            try {
                m.put(part.substring(0, eq).strip(), Double.parseDouble(part.substring(eq + 1).strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the share in '" + part + "' is not a number");
            }
        }
        if (m.isEmpty()) throw new IllegalArgumentException("the mix is empty");
        return m;
    }
}
