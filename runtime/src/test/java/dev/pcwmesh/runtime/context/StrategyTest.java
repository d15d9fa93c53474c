package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.generate.StopReason;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.RopeScaling;
import dev.pcwmesh.runtime.model.Transformer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every strategy on stories260K: each reduces to the exact baseline when the document fits one
 * window, parallel windows match a scalar block-diagonal reference, and on a document of several
 * windows each one answers, without NaN, with costs that add up.
 */
class StrategyTest {
    static Model model;
    static int[] prefix;
    static int[] question;
    static List<int[]> windows;

    static final String[] STORY = {
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
            "One day, she saw a big red ball under a tree. She wanted to play with it, but it was too high.",
            "Lily's mom said they could go to the shop and buy a kite. Lily was very happy and smiled.",
            "Tom was a small dog who liked to run. He ran to the pond and saw a duck swimming in the water.",
            "The sun was hot, so they sat under the tree and ate some cake. Then they went home to sleep.",
    };

    @BeforeAll
    static void load() {
        model = Model.load(TestModels.shared(Stories260K.FILE));
        prefix = new int[]{model.tokenizer().bos()};
        question = model.tokenizer().encode(" Lily went to the", false, false);
        windows = new ArrayList<>();
        for (String s : STORY) windows.add(model.tokenizer().encode(" " + s, false, false));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static PlanRequest request(PositionEncoding positions, int answerTokens) {
        return new PlanRequest(model, positions, new LocalSegments(model), model.config().contextLength(), answerTokens);
    }

    static PlanRequest request() {
        return request(PositionEncoding.of(model), 16);
    }

    /** Logits of the question's last token under {@code plan}. */
    static float[] lastLogits(ContextPlan plan, int[] tokens) {
        ModelConfig c = model.config();
        float[] out = new float[c.vocabSize()];
        int[] positions = IntStream.range(0, tokens.length).map(i -> plan.nextPosition() + i).toArray();
        new Transformer(model).forward(tokens, positions, plan.attention(), new KvCache(c.layers(), c.kvDim(), tokens.length, plan.needsRawKeys()),
                tokens.length - 1, (row, l) -> System.arraycopy(l, 0, out, 0, l.length));
        return out;
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        double maxAbs = 0;
        for (int i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
        assertTrue(maxAbs <= tolerance, what + ": logits differ by " + maxAbs);
    }

    @Test
    void everyStrategyReducesToTheBaselineWhenTheDocumentFitsOneWindow() {
        Document one = new Document(prefix, List.of(windows.get(0)));
        float[] baseline = lastLogits(new Sequential().plan(one, question, request()), question);
        int length = prefix.length + one.tokens() + question.length;
        Map<String, ContextPlan> plans = new LinkedHashMap<>();
        plans.put("parallel", new ParallelWindows().plan(one, question, request()));
        plans.put("parallel+ape(1,1)", new ParallelWindows(WindowAttention.ape(1, 1)).plan(one, question, request()));
        plans.put("select k=3", new WindowSelection(3, Set.of(), null).plan(one, question, request()));
        plans.put("lambda local>=length", new LambdaWindow(4, length, 5).plan(one, question, request()));
        plans.put("tokens k>=keys", new TokenSelection(one.tokens(), 1).plan(one, question, request()));
        plans.put("tokens k>=keys in blocks", new TokenSelection(one.tokens(), 4).plan(one, question, request()));
        int trained = model.config().contextLength();
        for (RopeScaling s : List.of(new RopeScaling.Linear(1), new RopeScaling.Ntk(1), new RopeScaling.DynamicNtk(),
                new RopeScaling.Yarn(1, trained), new RopeScaling.Llama3(1, 1, 4, trained))) {
            PositionEncoding p = new PositionEncoding(model.config().rope().withScaling(s), null);
            plans.put(s.describe(), new Sequential().plan(one, question, request(p, 16)));
        }
        for (ReRope r : List.of(ReRope.clipped(length), new ReRope(length, 2))) {
            PositionEncoding p = new PositionEncoding(model.config().rope(), r);
            plans.put(r.describe(), new Sequential().plan(one, question, request(p, 16)));
        }
        plans.forEach((name, plan) -> {
            assertEquals(0, plan.droppedTokens(), name);
            assertClose(baseline, lastLogits(plan, question), 1e-4, name);
        });
    }

    @Test
    void parallelWithTwoWindowsEqualsABlockDiagonalReference() {
        int[] a = windows.get(0), b = windows.get(1);
        ContextPlan plan = new ParallelWindows().plan(new Document(prefix, List.of(a, b)), question, request());
        float[] runtime = lastLogits(plan, question);

        // One sequence: prefix, window a, window b, question; a and b share positions and never see each other.
        int p = prefix.length, endA = p + a.length, endB = endA + b.length, n = endB + question.length;
        int[] tokens = new int[n], positions = new int[n];
        System.arraycopy(prefix, 0, tokens, 0, p);
        System.arraycopy(a, 0, tokens, p, a.length);
        System.arraycopy(b, 0, tokens, endA, b.length);
        System.arraycopy(question, 0, tokens, endB, question.length);
        for (int i = 0; i < n; i++) {
            positions[i] = i < endA ? i : i < endB ? p + (i - endA) : p + Math.max(a.length, b.length) + (i - endB);
        }
        ScalarReference.Mask mask = (q, k) -> {
            if (k > q) return false;
            boolean qInB = q >= endA && q < endB, kInA = k >= p && k < endA;
            return !(qInB && kInA);
        };
        double[] reference = ScalarReference.lastLogits(model, tokens, positions, mask);
        double maxAbs = 0;
        for (int i = 0; i < reference.length; i++) maxAbs = Math.max(maxAbs, Math.abs(reference[i] - runtime[i]));
        assertTrue(maxAbs < 1e-3, "parallel plan vs scalar reference: logits differ by " + maxAbs);

        // The mask matters: the same tokens as one causal stream give other logits.
        int[] stream = IntStream.range(0, n).toArray();
        double[] causal = ScalarReference.lastLogits(model, tokens, stream, (q, k) -> k <= q);
        double apart = 0;
        for (int i = 0; i < causal.length; i++) apart = Math.max(apart, Math.abs(causal[i] - runtime[i]));
        assertTrue(apart > 1e-2, "a causal stream should differ from parallel windows, differs by " + apart);
    }

    @Test
    void apeAtTemperatureOneAndScaleOneIsPlainParallelExactly() {
        Document doc = new Document(prefix, windows);
        float[] plain = lastLogits(new ParallelWindows().plan(doc, question, request()), question);
        assertArrayEquals(plain, lastLogits(new ParallelWindows(WindowAttention.ape(1, 1)).plan(doc, question, request()), question));
        float[] tempered = lastLogits(new ParallelWindows(WindowAttention.ape(0.8f, 0.5f)).plan(doc, question, request()), question);
        assertFalse(java.util.Arrays.equals(plain, tempered), "APE with T=0.8, S=0.5 must change the logits");
    }

    @Test
    void selectionOfEveryWindowAndTopKOfEveryKeyArePlainParallel() {
        Document doc = new Document(prefix, windows);
        float[] plain = lastLogits(new ParallelWindows().plan(doc, question, request()), question);
        assertClose(plain, lastLogits(new WindowSelection(windows.size(), Set.of(), null).plan(doc, question, request()), question), 1e-5, "select all");
        assertClose(plain, lastLogits(new TokenSelection(doc.tokens(), 1).plan(doc, question, request()), question), 1e-5, "tokens all");
        assertClose(plain, lastLogits(new TokenSelection(doc.tokens(), 8).plan(doc, question, request()), question), 1e-5, "tokens all in blocks");
    }

    @Test
    void selectKeepsTheWindowsTheQuestionAttendsTo() {
        Document doc = new Document(prefix, windows);
        ContextPlan plan = new WindowSelection(2, Set.of(), null).plan(doc, question, request());
        assertEquals(2, plan.cost().windows());
        assertTrue(plan.droppedTokens() > 0);
        // Document order is kept: window placements in increasing original index.
        assertTrue(plan.note().startsWith("kept windows ["), plan.note());
    }

    /** Every strategy, on several windows, with the costs each should report. */
    @Test
    void everyStrategyAnswersOnSeveralWindowsAndItsCostsAddUp() {
        Document doc = new Document(prefix, windows);
        ModelConfig c = model.config();
        long perToken = (long) c.heads() * c.layers();
        int docTokens = doc.tokens(), p = prefix.length;
        int trained = 64;  // a short trained window, so that sequential truncates and lambda evicts
        record Case(Strategy strategy, PositionEncoding positions) {}
        PositionEncoding plain = PositionEncoding.of(model);
        List<Case> cases = List.of(
                new Case(new ParallelWindows(), plain),
                new Case(new ParallelWindows(WindowAttention.ape(0.9f, 0.8f)), plain),
                new Case(new WindowSelection(2, Set.of(0, 2), null), plain),
                new Case(new WindowSelection(2, Set.of(), new Embedder(model)), plain),
                new Case(new Sequential(), plain),
                new Case(new LambdaWindow(4, 24, 8), plain),
                new Case(new TokenSelection(16, 1), plain),
                new Case(new TokenSelection(16, 4), plain),
                new Case(new Sequential(), new PositionEncoding(c.rope().withScaling(new RopeScaling.Yarn(4, trained)), null)),
                new Case(new Sequential(), new PositionEncoding(c.rope().withScaling(new RopeScaling.Ntk(4)), null)),
                new Case(new Sequential(), new PositionEncoding(c.rope().withScaling(new RopeScaling.DynamicNtk()), null)),
                new Case(new Sequential(), new PositionEncoding(c.rope(), ReRope.clipped(16))),
                new Case(new Sequential(), new PositionEncoding(c.rope(), new ReRope(16, 4))));
        for (Case k : cases) {
            String name = k.strategy().name() + " " + k.positions().describe();
            PlanRequest request = new PlanRequest(model, k.positions(), new LocalSegments(model), trained, 8);
            ContextPlan plan = k.strategy().plan(doc, question, request);
            for (float v : lastLogits(plan, question)) assertTrue(Float.isFinite(v), name + ": non-finite logit");
            long answerBefore = plan.cost().answerScores();
            GenerationResult r = new Generator(model, model.tokenizer()).generate(plan, question, SamplingParams.greedy(8), (t, s) -> { });
            assertFalse(r.text().isBlank(), name + ": no text");

            PlanCost cost = plan.cost();
            int context = plan.contextTokens();
            assertEquals((long) context * 2 * c.layers() * c.kvDim() * Float.BYTES, cost.kvBytes(), name + ": KV bytes");
            int stream = k.strategy() instanceof LambdaWindow ? p + docTokens : docTokens;
            int placedDocument = k.strategy() instanceof LambdaWindow ? context : context - p;
            assertEquals(stream, placedDocument + plan.droppedTokens(), name + ": kept + dropped = document");

            int processed = question.length + r.tokens().length - (r.stopReason() == StopReason.END_OF_GENERATION ? 0 : 1);
            long[] range = contextScores(plan);
            long least = 0, most = 0;
            for (int i = 0; i < processed; i++) {
                least += perToken * (range[0] + i + 1);
                most += perToken * (range[1] + i + 1);
            }
            long answer = cost.answerScores() - answerBefore;
            assertTrue(least <= answer && answer <= most, name + ": answer scores " + answer + " outside [" + least + ", " + most + "]");

            switch (k.strategy()) {
                case ParallelWindows w -> assertParallelEncoding(name, cost, doc, perToken);
                case TokenSelection w -> assertParallelEncoding(name, cost, doc, perToken);
                case Sequential s -> {
                    int kept = context - p;
                    assertEquals(p + kept, cost.tokensEncoded(), name + ": tokens encoded");
                    assertEquals(perToken * (triangle(p) + (long) kept * p + triangle(kept)), cost.encodeScores(), name + ": encode scores");
                    if (k.positions().equals(plain)) {
                        assertTrue(plan.droppedTokens() > 0 && plan.note().startsWith("truncated"), name + ": " + plan.note());
                    }
                }
                case LambdaWindow l -> {
                    assertEquals(p + docTokens, cost.tokensEncoded(), name + ": tokens encoded");
                    assertTrue(plan.nextPosition() + question.length + 8 <= trained, name + ": positions stay inside the trained window");
                }
                case WindowSelection s -> assertTrue(cost.tokensEncoded() > 0 && plan.cost().windows() == 2, name);
                default -> throw new AssertionError(name);
            }
        }
    }

    /** The fewest and most scores one head of a new token computes over the plan's blocks (equal but for top-k in blocks). */
    static long[] contextScores(ContextPlan plan) {
        WindowAttention.TopK topK = plan.windowAttention().topK();
        long n = 0;
        int windowKeys = 0, groups = 0;
        for (ContextPlan.Placement pl : plan.placements()) {
            if (topK != null && pl.role() == ContextPlan.Role.WINDOW) {
                windowKeys += pl.segment().length();
                groups += (pl.segment().length() + topK.blockSize() - 1) / topK.blockSize();
            } else {
                n += pl.segment().length();
            }
        }
        if (topK == null) return new long[]{n, n};
        if (topK.blockSize() == 1) return new long[]{n + windowKeys, n + windowKeys};
        // Every representative, then the keys of the chosen blocks (the last block of a window may be short).
        return new long[]{n + groups + Math.min(topK.k(), windowKeys), n + groups + Math.min(windowKeys, topK.k() + topK.blockSize() - 1)};
    }

    static void assertParallelEncoding(String name, PlanCost cost, Document doc, long perToken) {
        int p = doc.prefix().length;
        assertEquals(p + doc.tokens(), cost.tokensEncoded(), name + ": tokens encoded");
        long scores = triangle(p);
        for (int[] w : doc.windows()) scores += (long) w.length * p + triangle(w.length);
        assertEquals(perToken * scores, cost.encodeScores(), name + ": encode scores");
    }

    /** 1 + 2 + ... + n: causal scores of n tokens among themselves. */
    static long triangle(long n) {
        return n * (n + 1) / 2;
    }
}
