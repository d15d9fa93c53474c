package dev.pcwmesh.corpus;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Domain budgets met exactly, the recipe's upsampling of long units, determinism under a seed. */
class MixerTest {

    static Mixer corpus(long seed, int shortPerDomain, int longPerDomain, String... domains) {
        Mixer m = new Mixer(seed);
        Random r = new Random(11);
        for (String d : domains) {
            for (int i = 0; i < shortPerDomain; i++) m.add(d + "/short-" + i, d, 50 + r.nextInt(400));
            for (int i = 0; i < longPerDomain; i++) m.add(d + "/long-" + i, d, 600 + r.nextInt(3000));
        }
        return m;
    }

    @Test
    void domainSharesAreExactAfterMixing() {
        Mixer m = corpus(5, 300, 40, "web", "books", "code");
        Map<String, Double> target = Map.of("web", 0.5, "books", 0.3, "code", 0.2);
        Mixer.Plan p = m.plan(target, null, 0.1, 512);
        long total = p.outputTokens().values().stream().mapToLong(Long::longValue).sum();
        assertEquals(p.budget(), total);
        long taken = 0;
        for (int t : p.take()) taken += t;
        assertEquals(total, taken, "the units taken add up to the budget");
        for (var e : target.entrySet()) {
            double share = (double) p.outputTokens().get(e.getKey()) / total;
            assertEquals(e.getValue(), share, 1.0 / total, e.getKey() + " gets its share to the token");
        }
        assertTrue(p.limitedByData());
        assertTrue(p.cut() <= 3, "at most one unit per domain is cut: " + p.cut());

        Mixer.Plan small = m.plan(target, 10_000L, 0.1, 512);
        assertEquals(10_000, small.budget());
        assertEquals(Map.of("books", 3000L, "code", 2000L, "web", 5000L), small.outputTokens());
        assertFalse(small.limitedByData());
    }

    @Test
    void theDefaultMixIsTheInputsOwn() {
        Mixer m = new Mixer(1);
        for (int i = 0; i < 100; i++) m.add("a" + i, "a", 1000);
        for (int i = 0; i < 100; i++) m.add("b" + i, "b", 3000);
        Mixer.Plan p = m.plan(null, null, 0.1, 512);
        assertEquals(0.25, p.shares().get("a"), 1e-12);
        assertEquals(100_000L, p.outputTokens().get("a"));
        assertEquals(300_000L, p.outputTokens().get("b"));
    }

    @Test
    void shortUnitsAreKeptWithTheRecipesProbability() {
        Mixer m = corpus(9, 3000, 300, "web");
        Mixer.Plan p = m.plan(null, null, 0.1, 512);
        double shortRatio = (double) p.shortKept() / p.shortUnits();
        System.out.printf(java.util.Locale.ROOT, "kept %d of %d short units (%.3f), %d of %d long%n", p.shortKept(), p.shortUnits(), shortRatio, p.longKept(), p.longUnits());
        assertEquals(0.1, shortRatio, 0.02, "3 standard deviations of a binomial(3000, 0.1)");
        assertEquals(p.longUnits(), p.longKept(), "every long unit is kept");
        // Long units' share of tokens rises accordingly.
        long longIn = 0, longOut = 0, allIn = 0, allOut = 0;
        Mixer again = corpus(9, 3000, 300, "web");
        assertArrayEquals(p.take(), again.plan(null, null, 0.1, 512).take(), "the same seed decides the same");
        assertFalse(java.util.Arrays.equals(p.take(), corpus(10, 3000, 300, "web").plan(null, null, 0.1, 512).take()), "another seed decides otherwise");
    }

    @Test
    void badMixesAreRefused() {
        Mixer m = corpus(1, 10, 2, "web");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> m.plan(Map.of("news", 1.0), null, 0.1, 512)).getMessage().contains("'news'"));
        assertThrows(IllegalArgumentException.class, () -> Mixer.parseMix("web"));
        assertEquals(Map.of("web", 0.7, "code", 0.3), Mixer.parseMix("web=0.7, code=0.3"));
    }
}
