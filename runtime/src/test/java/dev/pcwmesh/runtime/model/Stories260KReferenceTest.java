package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.TestModels;

import static dev.pcwmesh.runtime.Stories260K.*;
import dev.pcwmesh.runtime.kv.KvCache;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** stories260K against the reference behaviour of llama.cpp and llama2.c (../shared/models/README.md). */
class Stories260KReferenceTest {
    static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(TestModels.shared(FILE));
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    @Test
    void configurationIsRead() {
        ModelConfig c = model.config();
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(5, c.layers());
        assertEquals(64, c.dim());
        assertEquals(8, c.heads());
        assertEquals(4, c.kvHeads());
        assertEquals(172, c.ffnDim());
        assertEquals(512, c.vocabSize());
    }

    @Test
    void firstStepTopFiveLogitsMatchTheReference() {
        float[] logits = new float[model.config().vocabSize()];
        new Transformer(model).forward(PROMPT, IntStream.range(0, PROMPT.length).toArray(), dev.pcwmesh.runtime.context.ContextPlan.empty(model, 0).attention(),
                new KvCache(5, model.config().kvDim(), 16, false), PROMPT.length - 1,
                (row, l) -> System.arraycopy(l, 0, logits, 0, l.length));
        Integer[] order = IntStream.range(0, logits.length).boxed().sorted((a, b) -> Float.compare(logits[b], logits[a])).toArray(Integer[]::new);
        for (int i = 0; i < 5; i++) {
            assertEquals(TOP5[i], order[i], "rank " + i);
            assertEquals(TOP5_LOGITS[i], logits[order[i]], 1e-3, "logit of " + TOP5[i]);
        }
    }

    @Test
    void greedyDecodingMatchesTheReference() {
        Transformer tf = new Transformer(model);
        KvCache cache = new KvCache(5, model.config().kvDim(), 80, false);
        int[] next = new int[1];
        ForwardPass.LogitsSink argmax = (row, l) -> {
            int best = 0;
            for (int i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
            next[0] = best;
        };
        tf.forward(PROMPT, IntStream.range(0, PROMPT.length).toArray(), dev.pcwmesh.runtime.context.ContextPlan.empty(model, 0).attention(), cache, PROMPT.length - 1, argmax);
        int[] out = new int[64];
        for (int i = 0; i < 64; i++) {
            out[i] = next[0];
            tf.forward(new int[]{out[i]}, new int[]{PROMPT.length + i}, dev.pcwmesh.runtime.context.ContextPlan.empty(model, 0).attention(), cache, 0, argmax);
        }
        assertArrayEquals(GREEDY_64, out);
    }
}
