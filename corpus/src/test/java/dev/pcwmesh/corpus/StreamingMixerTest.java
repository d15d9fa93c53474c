package dev.pcwmesh.corpus;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Kafka stage's mixer: the running mix stays within one sequence of the target, and short units are kept at the recipe's rate. */
class StreamingMixerTest {

    @Test
    void theRunningMixStaysWithinOneSequenceOfTheTarget() {
        long slack = 4096;
        StreamingMixer mixer = new StreamingMixer(Map.of("books", 1.0, "code", 3.0), 1.0, 0, 1, slack);
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 5000; i++) {
            // The stream offers books three times as often as code: the reverse of the target.
            String domain = rng.nextInt(4) == 0 ? "code" : "books";
            mixer.admit("u" + i, domain, 500 + rng.nextInt(3000));
            Map<String, Long> out = mixer.tokensPerDomain();
            long total = out.values().stream().mapToLong(Long::longValue).sum();
            for (var e : out.entrySet()) {
                double share = e.getKey().equals("books") ? 0.25 : 0.75;
                assertTrue(e.getValue() <= share * total + slack, e + " of " + total + " after " + i + " offers");
            }
        }
        Map<String, Long> out = mixer.tokensPerDomain();
        double code = (double) out.get("code") / (out.get("code") + out.get("books"));
        assertEquals(0.75, code, 0.01, "final share of code");
        assertFalse(mixer.admit("elsewhere", "news", 1000), "a domain outside the target mix is left out");
    }

    @Test
    void shortUnitsAreKeptAtTheRecipesRateAndLongOnesAlways() {
        StreamingMixer mixer = new StreamingMixer(null, 0.1, 4096, 42, 0);
        int kept = 0;
        for (int i = 0; i < 4000; i++) if (mixer.admit("short-" + i, "d", 1000)) kept++;
        assertEquals(0.1, kept / 4000.0, 0.02, "short units kept");
        for (int i = 0; i < 100; i++) assertTrue(mixer.admit("long-" + i, "d", 5000));
        StreamingMixer again = new StreamingMixer(null, 0.1, 4096, 42, 0);
        for (int i = 0; i < 50; i++) {
            assertEquals(new StreamingMixer(null, 0.1, 4096, 42, 0).admit("short-" + i, "d", 1000), again.admit("short-" + i, "d", 1000),
                    "the same seed makes the same choice");
        }
    }
}
