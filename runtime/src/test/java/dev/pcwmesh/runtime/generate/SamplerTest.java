package dev.pcwmesh.runtime.generate;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    static final float[] LOGITS = {1f, 5f, 3f, 4.5f, -2f, 0f};

    static Set<Integer> drawn(SamplingParams p, int draws) {
        Sampler s = new Sampler(p, LOGITS.length);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < draws; i++) seen.add(s.sample(LOGITS.clone()));
        return seen;
    }

    @Test
    void greedyTakesTheLargestLogit() {
        assertEquals(1, new Sampler(SamplingParams.greedy(1), LOGITS.length).sample(LOGITS.clone()));
    }

    @Test
    void topKLimitsTheCandidates() {
        assertEquals(Set.of(1, 3), drawn(SamplingParams.greedy(1).withTemperature(5f).withTopK(2), 400));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // Probabilities at temperature 1: token 1 ~0.55, token 3 ~0.33, token 2 ~0.07, ...
        assertEquals(Set.of(1), drawn(SamplingParams.greedy(1).withTemperature(1f).withTopP(0.5f), 300));
        assertEquals(Set.of(1, 3), drawn(SamplingParams.greedy(1).withTemperature(1f).withTopP(0.85f), 600));
    }

    @Test
    void minPDropsUnlikelyTokens() {
        // min-p 0.2: keep logits >= 5 + ln 0.2 = 3.39, i.e. tokens 1 and 3.
        assertEquals(Set.of(1, 3), drawn(SamplingParams.greedy(1).withTemperature(3f).withMinP(0.2f), 600));
    }

    @Test
    void highTemperatureReachesEveryToken() {
        assertEquals(6, drawn(SamplingParams.greedy(1).withTemperature(50f), 2000).size());
    }

    @Test
    void theSameSeedGivesTheSameDraws() {
        SamplingParams p = SamplingParams.defaults(1, 42).withTemperature(2f).withTopK(0).withTopP(1f).withMinP(0f);
        Sampler a = new Sampler(p, LOGITS.length), b = new Sampler(p, LOGITS.length);
        for (int i = 0; i < 50; i++) assertEquals(a.sample(LOGITS.clone()), b.sample(LOGITS.clone()));
    }

    @Test
    void repetitionPenaltyPushesRecentTokensDown() {
        Sampler s = new Sampler(SamplingParams.greedy(1).withRepetitionPenalty(2f), LOGITS.length);
        s.accept(1);
        s.accept(1); // counted once
        // token 1: 5 / 2 = 2.5 < 4.5, so token 3 wins.
        assertEquals(3, s.sample(LOGITS.clone()));
        float[] negative = {-1f, -0.5f};
        Sampler n = new Sampler(SamplingParams.greedy(1).withRepetitionPenalty(3f), 2);
        n.accept(0);
        n.accept(1);
        // -1 * 3 = -3 and -0.5 * 3 = -1.5: token 1 still wins, penalised logits get more negative.
        assertEquals(1, n.sample(negative));
        assertEquals(-1.5f, negative[1]);
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy(1).withTopP(0f));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy(-1));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy(1).withStopStrings(java.util.List.of("")));
    }
}
