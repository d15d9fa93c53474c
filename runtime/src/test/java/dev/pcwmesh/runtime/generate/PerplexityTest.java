package dev.pcwmesh.runtime.generate;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.Transformer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PerplexityTest {
    // The reference greedy continuation of "Once upon a time" (../shared/models/README.md): text the model finds likely.
    static final int[] STORY = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(1, 403, 407, 261, 378),
            java.util.Arrays.stream(dev.pcwmesh.runtime.Stories260K.GREEDY_64)).toArray();

    @Test
    void matchesAnIndependentTokenByTokenComputation() {
        try (Model m = Model.load(TestModels.shared("stories260K.gguf"))) {
            int ctx = 16;
            Perplexity.Result r = new Perplexity(m).compute(STORY, ctx, 1, null);
            assertEquals(STORY.length / ctx, r.chunks());
            assertEquals(r.chunks() * (ctx - ctx / 2 - 1), r.scored());

            double nll = 0;
            int n = 0;
            for (int c = 0; c < r.chunks(); c++) {
                Transformer t = new Transformer(m);
                KvCache cache = new KvCache(m.config().layers(), m.config().kvDim(), ctx, false);
                for (int j = 0; j < ctx - 1; j++) {
                    int token = j == 0 ? 1 : STORY[c * ctx + j];
                    int target = STORY[c * ctx + j + 1];
                    double[] lp = new double[1];
                    t.forward(new int[]{token}, new int[]{j}, ContextPlan.empty(m, 0).attention(), cache, 0, (row, logits) -> lp[0] = Perplexity.logSoftmaxAt(logits, target));
                    if (j >= ctx / 2) {
                        nll -= lp[0];
                        n++;
                    }
                }
            }
            assertEquals(Math.exp(nll / n), r.perplexity(), 1e-4 * r.perplexity());
        }
    }

    @Test
    void likelyTextScoresFarBetterThanRandomTokens() {
        try (Model m = Model.load(TestModels.shared("stories260K.gguf"))) {
            double story = new Perplexity(m).compute(STORY, 32, 1, null).perplexity();
            Random r = new Random(3);
            int[] noise = new int[STORY.length];
            for (int i = 0; i < noise.length; i++) noise[i] = 3 + r.nextInt(500);
            double random = new Perplexity(m).compute(noise, 32, 1, null).perplexity();
            assertTrue(story < 3 && random > 50, "story " + story + ", random " + random);
        }
    }

    @Test
    void tooShortATextIsAClearError() {
        try (Model m = Model.load(TestModels.shared("stories260K.gguf"))) {
            var e = assertThrows(IllegalArgumentException.class, () -> new Perplexity(m).compute(new int[10], 16, 1, null));
            assertTrue(e.getMessage().contains("fewer than one chunk"), e.getMessage());
        }
    }
}
