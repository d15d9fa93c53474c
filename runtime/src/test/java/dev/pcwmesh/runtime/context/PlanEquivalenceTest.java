package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.Transformer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The two primitives agree with plain causal processing: segments encoded anywhere and placed
 * anywhere give the logits of the same tokens processed in one causal stream at those positions.
 */
class PlanEquivalenceTest {

    static Stream<Path> models() {
        return Stream.concat(
                Stream.of("stories260K.gguf", "variants/stories260K-qwen2.gguf", "variants/stories260K-qwen3.gguf").map(TestModels::shared),
                RandomModels.all().stream());
    }

    static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + r.nextInt(vocab - 3);
        return t;
    }

    static int[] range(int from, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = from + i;
        return p;
    }

    /** Logits of the last token of {@code tokens} at consecutive positions from {@code start}, attending to {@code plan}. */
    static float[] lastLogits(Model m, ContextPlan plan, int[] tokens, int start) {
        float[] out = new float[m.config().vocabSize()];
        new Transformer(m).forward(tokens, range(start, tokens.length), plan.attention(),
                new KvCache(m.config().layers(), m.config().kvDim(), tokens.length, false), tokens.length - 1,
                (row, l) -> System.arraycopy(l, 0, out, 0, l.length));
        return out;
    }

    static int[] concat(int[]... parts) {
        return Stream.of(parts).flatMapToInt(java.util.Arrays::stream).toArray();
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertClose(expected, actual, 1e-4, what);
    }

    /**
     * The tolerance for logits computed along arithmetically different paths (keys rotated once
     * vs rotated then re-rotated, equal to the last bits). With f32 activations the difference
     * stays near 1e-6. Every other weight type first rounds its activations (to f16, bf16 or int8
     * blocks: ggml's vec_dot_type), and a last-bit difference that moves one such rounding moves
     * the logits by far more: about 5e-4 of the largest logit for F16, 2.4e-3 for BF16 and
     * 1.4e-2 for Q4_0 have been seen, while on the random models a segment left unrotated moves
     * them by 65% or more.
     */
    static double pathTolerance(Model m) {
        java.util.List<dev.pcwmesh.runtime.kernel.WeightMatrix> ms = new java.util.ArrayList<>();
        ms.add(m.weights().output());
        for (dev.pcwmesh.runtime.model.LayerWeights lw : m.weights().layers()) {
            ms.addAll(List.of(lw.wq(), lw.wk(), lw.wv(), lw.wo(), lw.gate(), lw.up(), lw.down()));
        }
        return ms.stream().mapToDouble(w -> switch (w.type()) {
            case F32 -> 1e-4;
            case F16 -> 2e-3;   // activations rounded to 11 significant bits
            case BF16 -> 1e-2;  // 8 significant bits
            default -> 5e-2;    // int8 blocks
        }).max().orElseThrow();
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        double maxAbs = 0, scale = 0;
        for (int i = 0; i < expected.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        if (maxAbs > tolerance * Math.max(1, scale)) {
            throw new AssertionError(what + ": logits differ by " + maxAbs + " (largest logit " + scale + ")");
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void prefillThenDecodeEqualsSingleSteps(Path file) {
        try (Model m = Model.load(file)) {
            int[] t = tokens(23, m.config().vocabSize(), 1);
            int layers = m.config().layers(), kvDim = m.config().kvDim();
            float[] batched = new float[t.length * m.config().vocabSize()];
            int vocab = m.config().vocabSize();
            // Batch size 8 so the 23 tokens cross batch boundaries.
            new Transformer(m, 8).forward(t, range(0, t.length), ContextPlan.empty(m, 0).attention(), new KvCache(layers, kvDim, 4, false), 0,
                    (row, l) -> System.arraycopy(l, 0, batched, row * vocab, vocab));
            Transformer single = new Transformer(m);
            KvCache cache = new KvCache(layers, kvDim, 1, false);
            for (int i = 0; i < t.length; i++) {
                float[] step = new float[vocab];
                single.forward(new int[]{t[i]}, new int[]{i}, ContextPlan.empty(m, 0).attention(), cache, 0, (row, l) -> System.arraycopy(l, 0, step, 0, vocab));
                float[] expected = java.util.Arrays.copyOfRange(batched, i * vocab, (i + 1) * vocab);
                assertClose(expected, step, file.getFileName() + " token " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void segmentEncodedAtPPlacedAtQEqualsEncodedAtQ(Path file) {
        try (Model m = Model.load(file)) {
            Encoder encoder = new Encoder(m);
            int[] window = tokens(12, m.config().vocabSize(), 2);
            int[] question = tokens(3, m.config().vocabSize(), 3);
            int q = 41;
            KvSegment atZero = encoder.encode(window, 0);
            KvSegment atQ = encoder.encode(window, q);
            assertNotEquals(atZero.id(), atQ.id(), "start position is part of the id");
            float[] moved = lastLogits(m, ContextPlan.of(m, List.of(new ContextPlan.Placement(atZero, q)), q + 12), question, q + 12);
            float[] native_ = lastLogits(m, ContextPlan.of(m, List.of(new ContextPlan.Placement(atQ, q)), q + 12), question, q + 12);
            assertClose(native_, moved, pathTolerance(m), file.getFileName() + " placed vs encoded");
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void prefixWindowAndQuestionEqualOneCausalStream(Path file) {
        try (Model m = Model.load(file)) {
            Encoder encoder = new Encoder(m);
            int vocab = m.config().vocabSize();
            int[] prefix = concat(new int[]{1}, tokens(4, vocab, 4));
            int[] window = tokens(9, vocab, 5);
            int[] question = tokens(4, vocab, 6);
            KvSegment p = encoder.encode(prefix, 0);
            KvSegment w = encoder.encode(window, prefix.length, p);
            assertEquals(p.id(), w.prefixId());
            ContextPlan plan = ContextPlan.of(m, List.of(new ContextPlan.Placement(p, 0), new ContextPlan.Placement(w, prefix.length)),
                    prefix.length + window.length);
            float[] planned = lastLogits(m, plan, question, plan.nextPosition());
            float[] plain = lastLogits(m, ContextPlan.empty(m, 0), concat(prefix, window, question), 0);
            assertClose(plain, planned, file.getFileName() + " plan vs one stream");
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void identicalWindowsGetIdenticalIds(Path file) {
        try (Model m = Model.load(file)) {
            Encoder encoder = new Encoder(m);
            int[] window = tokens(5, m.config().vocabSize(), 7);
            assertEquals(encoder.encode(window, 3).id(), encoder.encode(window.clone(), 3).id());
        }
    }

    @org.junit.jupiter.api.Test
    void aSegmentFromAnotherModelIsRefused() {
        try (Model a = Model.load(TestModels.shared("stories260K.gguf"));
             Model b = Model.load(TestModels.shared("variants/stories260K-qwen2.gguf"))) {
            KvSegment s = new Encoder(a).encode(new int[]{1, 5, 6}, 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ContextPlan.of(b, List.of(new ContextPlan.Placement(s, 0)), 3));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("different model"), e.getMessage());
        }
    }
}
