package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kernel.Parallel;
import dev.pcwmesh.runtime.kernel.Softmax;
import dev.pcwmesh.runtime.kernel.Vectors;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.Rope;

import java.util.Arrays;
import java.util.List;

/**
 * Multi-head attention of new tokens over a {@link ContextPlan}'s blocks and, causally, the live
 * cache; query head {@code h} reads key/value head {@code h / groupSize}. For each token and head
 * it scores every key it may see, applies the plan's rules to the window keys, takes one softmax
 * over everything, and mixes the values:
 * <ul>
 *   <li>ReRoPE: a key farther than the window is scored with the second rotation of query and key;</li>
 *   <li>token selection: only the top-k window keys (or blocks of keys) keep their scores;</li>
 *   <li>APE: window scores become {@code s/T + ln S + (T-1)·LSE(s/T)}, which gives the window block
 *       the log-sum-exp {@code T·LSE(s/T) + ln S} inside the same softmax.</li>
 * </ul>
 */
public final class PlanAttention implements Attention {
    private final ContextPlan plan;
    private final ModelConfig c;
    private final AttentionProbe probe;
    private final List<ContextPlan.Block> blocks;
    private final int contextKeys;
    private final int windowKeys;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread buffers: scores of each head of a task over every key, a far-rotated query, top-k's candidates (score, rank, chosen, keys covered). */
    private static final class Scratch {
        float[][] weights = new float[0][];
        float[] farQ = new float[0];
        float[] candidates = new float[0];
        long[] order = new long[0];
        boolean[] chosen = new boolean[0];
        int[] sizes = new int[0];

        /** {@code heads} score buffers of at least {@code keys} values. */
        float[][] weights(int heads, int keys) {
            if (weights.length < heads || weights[0].length < keys) {
                weights = new float[heads][Math.max(keys, 256)];
            }
            return weights;
        }
    }

    PlanAttention(ContextPlan plan, ModelConfig config, AttentionProbe probe) {
        this.plan = plan;
        this.c = config;
        this.probe = probe;
        this.blocks = plan.blocks();
        int all = 0, windows = 0;
        for (ContextPlan.Block b : blocks) {
            all += b.length();
            if (b.role() == ContextPlan.Role.WINDOW) windows += b.length();
        }
        this.contextKeys = all;
        this.windowKeys = windows;
    }

    @Override public Rope rope() { return plan.rope(); }

    public ContextPlan plan() { return plan; }

    /**
     * Why a device backend cannot run this attention itself (ReRoPE's second rotation, top-k
     * selection and the attention probe are CPU-only), or null when it can.
     */
    public String deviceLimitation() {
        if (plan.encoding().rerope() != null) return "ReRoPE";
        if (plan.windowAttention().topK() != null) return "token selection (top-k)";
        if (probe != null) return "the attention probe of window selection";
        return null;
    }

    @Override public boolean needsRawQueries() { return plan.encoding().rerope() != null; }

    @Override
    public void attend(int layer, int[] positions, int from, int n, float[] q, float[] rawQ, KvCache live, float[] out) {
        int base = live.length();
        ReRope rerope = plan.encoding().rerope();
        if (rerope != null) rotateFarKeys(layer, live, base, n, rerope);
        int maxKeys = contextKeys + base + n;
        // A batch gives each task the query heads of one key/value head, so that their weighted
        // sums read each value row once for two heads; a single token keeps a task per head, to
        // spread its few heads over the threads. Both give the same numbers.
        int perTask = n > 1 ? c.groupSize() : 1;
        int tasksPerToken = c.heads() / perTask;
        KeyColumns columns = n >= COLUMN_QUERIES && rerope == null && Vectors.KEYS_PER_COLUMN > 0 ? keyColumns(layer, live, base + n) : null;
        Parallel.forRange(n * tasksPerToken, Parallel.minChunk(2L * maxKeys * c.headDim() * perTask), (lo, hi) -> {
            Scratch s = scratch.get();
            float[][] weights = s.weights(perTask, maxKeys);
            long scored = 0;
            for (int task = lo; task < hi; task++) {
                int t = task / tasksPerToken, h0 = task % tasksPerToken * perTask;
                for (int k = 0; k < perTask; k++) {
                    scored += weigh(layer, t, h0 + k, positions[from + t], q, rawQ, live, base, weights[k], s, columns);
                }
                mix(layer, t, h0, perTask, live, base, weights, out);
            }
            plan.countScores(scored);
        });
    }

    /**
     * Queries in a batch from which the keys are scored side by side ({@link KeyColumns}): laying
     * them out costs about one pass over the keys, and each query head then saves more than that.
     */
    private static final int COLUMN_QUERIES = 8;

    /**
     * A layer's keys laid out for {@link Vectors#scaledDotsOfColumns}: each scored block's and
     * the live cache's first {@code liveKeys}, key/value head by key/value head. Source {@code i}
     * (block {@code i}, the live keys last) and head {@code kvh} start at {@code offsets[i] + kvh *
     * lengths[i]}.
     */
    private record KeyColumns(float[] data, int[] offsets, int[] lengths) {
        int at(int source, int kvHead) { return offsets[source] + kvHead * lengths[source]; }
    }

    /** The calling thread's buffer for {@link KeyColumns}: written before the workers start, which only read it. */
    private final ThreadLocal<float[]> columnBuffer = ThreadLocal.withInitial(() -> new float[0]);

    private KeyColumns keyColumns(int layer, KvCache live, int liveKeys) {
        int headDim = c.headDim(), kvDim = c.kvDim(), kvHeads = c.kvHeads();
        boolean topK = plan.windowAttention().topK() != null;
        int sources = blocks.size() + 1;
        int[] offsets = new int[sources], lengths = new int[sources];
        int total = 0;
        for (int i = 0; i < sources; i++) {
            boolean scored = i == blocks.size() || !(topK && blocks.get(i).role() == ContextPlan.Role.WINDOW);
            int keys = i == blocks.size() ? liveKeys : blocks.get(i).length();
            offsets[i] = total;
            lengths[i] = scored ? Vectors.transposedLength(keys, headDim) : 0;
            total += kvHeads * lengths[i];
        }
        float[] data = columnBuffer.get();
        if (data.length < total) {
            data = new float[total];
            columnBuffer.set(data);
        }
        for (int i = 0; i < sources; i++) {
            if (lengths[i] == 0) continue;
            float[] keys = i == blocks.size() ? live.keys(layer) : blocks.get(i).keys(layer);
            int count = i == blocks.size() ? liveKeys : blocks.get(i).length();
            for (int h = 0; h < kvHeads; h++) Vectors.transposeRows(keys, h * headDim, kvDim, count, headDim, data, offsets[i] + h * lengths[i]);
        }
        return new KeyColumns(data, offsets, lengths);
    }

    /** ReRoPE's second rotation of the batch's raw keys, next to their ordinary rotation. */
    private void rotateFarKeys(int layer, KvCache live, int base, int n, ReRope rerope) {
        if (!live.keepsRawKeys()) throw new IllegalStateException("ReRoPE needs a live cache that keeps raw keys");
        int kvDim = c.kvDim();
        float[] far = live.farKeys(layer);
        System.arraycopy(live.rawKeys(layer), base * kvDim, far, base * kvDim, n * kvDim);
        for (int t = 0; t < n; t++) {
            plan.rope().rotate(far, (base + t) * kvDim, c.kvHeads(), c.headDim(), rerope.farKeyPosition(live.position(base + t)));
        }
    }

    /**
     * The attention weights of query head {@code h} of token {@code t} over every key it sees, in
     * {@code sc} (context blocks in order, then the live keys): scores, the plan's rules, softmax.
     * Reports the weights' mass per block to the probe. Returns the scores computed.
     */
    private long weigh(int layer, int t, int h, int qPos, float[] q, float[] rawQ, KvCache live, int base, float[] sc, Scratch s,
                       KeyColumns columns) {
        int headDim = c.headDim(), kvDim = c.kvDim();
        int qOff = t * c.qDim() + h * headDim;
        int kvOff = (h / c.groupSize()) * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        WindowAttention rule = plan.windowAttention();
        ReRope rerope = plan.encoding().rerope();
        float[] farQ = null;
        if (rerope != null) {
            if (s.farQ.length < headDim) s.farQ = new float[headDim];
            farQ = s.farQ;
            System.arraycopy(rawQ, qOff, farQ, 0, headDim);
            plan.rope().rotate(farQ, 0, 1, headDim, rerope.farQueryPosition(qPos));
        }
        long scored = 0;

        int kvHead = h / c.groupSize();
        int i = 0;
        for (int bi = 0; bi < blocks.size(); bi++) {
            ContextPlan.Block b = blocks.get(bi);
            if (rule.topK() != null && b.role() == ContextPlan.Role.WINDOW) {
                Arrays.fill(sc, i, i + b.length(), Float.NEGATIVE_INFINITY);  // chosen below
            } else {
                float[] keys = b.keys(layer);
                if (columns != null) {
                    Vectors.scaledDotsOfColumns(q, qOff, columns.data(), columns.at(bi, kvHead), b.length(), headDim, scale, sc, i);
                } else if (rerope == null) {
                    Vectors.scaledDots(q, qOff, keys, kvOff, kvDim, b.length(), headDim, scale, sc, i);
                } else {
                    float[] far = b.farKeys()[layer];
                    for (int j = 0; j < b.length(); j++) {
                        sc[i + j] = qPos - b.positions()[j] >= rerope.window()
                                ? Vectors.dot(farQ, 0, far, j * kvDim + kvOff, headDim) * scale
                                : Vectors.dot(q, qOff, keys, j * kvDim + kvOff, headDim) * scale;
                    }
                }
                scored += b.length();
            }
            i += b.length();
        }
        if (rule.topK() != null) scored += selectWindowKeys(layer, q, qOff, kvOff, scale, rule.topK(), sc, s);
        if (rule.ape() != null) applyApe(rule.ape(), sc);

        int visible = base + t + 1;
        float[] liveKeys = live.keys(layer);
        if (columns != null) {
            Vectors.scaledDotsOfColumns(q, qOff, columns.data(), columns.at(blocks.size(), kvHead), visible, headDim, scale, sc, i);
        } else if (rerope == null) {
            Vectors.scaledDots(q, qOff, liveKeys, kvOff, kvDim, visible, headDim, scale, sc, i);
        } else {
            float[] liveFar = live.farKeys(layer);
            for (int j = 0; j < visible; j++) {
                sc[i + j] = qPos - live.position(j) >= rerope.window()
                        ? Vectors.dot(farQ, 0, liveFar, j * kvDim + kvOff, headDim) * scale
                        : Vectors.dot(q, qOff, liveKeys, j * kvDim + kvOff, headDim) * scale;
            }
        }
        scored += visible;
        int total = i + visible;
        Softmax.apply(sc, 0, total);

        if (probe != null) {
            i = 0;
            for (int bi = 0; bi < blocks.size(); bi++) {
                int length = blocks.get(bi).length();
                float mass = 0;
                for (int j = i; j < i + length; j++) mass += sc[j];
                probe.blockMass(layer, t, h, bi, mass);
                i += length;
            }
        }
        return scored;
    }

    /**
     * The outputs of query heads {@code h0 .. h0 + count} of token {@code t} (heads of one
     * key/value head): each head's weighted sum of the values it sees, with {@code weights[k]}
     * for head {@code h0 + k}. Two heads at a time share each value row's loads; every output is
     * still {@link Vectors#addWeightedRows}' row after row.
     */
    private void mix(int layer, int t, int h0, int count, KvCache live, int base, float[][] weights, float[] out) {
        int headDim = c.headDim(), kvDim = c.kvDim();
        int qOff = t * c.qDim() + h0 * headDim;
        int kvOff = (h0 / c.groupSize()) * headDim;
        int visible = base + t + 1;
        Arrays.fill(out, qOff, qOff + count * headDim, 0f);
        for (int k = 0; k < count; k += 2) {
            int i = 0;
            int o0 = qOff + k * headDim;
            for (ContextPlan.Block b : blocks) {
                addWeightedRows(weights, k, count, i, b.length(), b.values(layer), kvOff, kvDim, out, o0, headDim);
                i += b.length();
            }
            addWeightedRows(weights, k, count, i, visible, live.values(layer), kvOff, kvDim, out, o0, headDim);
        }
    }

    /** Head {@code k}'s weighted rows, and head {@code k + 1}'s with the same loads when it is one of the {@code count}. */
    private static void addWeightedRows(float[][] weights, int k, int count, int wOff, int rows, float[] x, int xOff, int stride,
                                        float[] out, int outOff, int n) {
        if (k + 1 < count) {
            Vectors.addWeightedRows2(weights[k], weights[k + 1], wOff, rows, x, xOff, stride, out, outOff, outOff + n, n);
        } else {
            Vectors.addWeightedRows(weights[k], wOff, rows, x, xOff, stride, out, outOff, n);
        }
    }

    /**
     * Token selection: fills the scores of the chosen window keys (the rest stay -inf). Candidates
     * are single keys, or blocks of keys scored by their representative; the best are taken, in
     * order of score (ties in document order), until they cover {@code k} keys. Returns the
     * scores computed.
     */
    private long selectWindowKeys(int layer, float[] q, int qOff, int kvOff, float scale, WindowAttention.TopK topK, float[] sc, Scratch s) {
        int kvDim = c.kvDim(), headDim = c.headDim(), size = topK.blockSize();
        int candidates = 0;
        for (ContextPlan.Block b : blocks) {
            if (b.role() == ContextPlan.Role.WINDOW) candidates += (b.length() + size - 1) / size;
        }
        if (s.candidates.length < candidates) {
            s.candidates = new float[candidates];
            s.order = new long[candidates];
            s.chosen = new boolean[candidates];
            s.sizes = new int[candidates];
        }
        float[] cand = s.candidates;
        long[] order = s.order;

        // Score every candidate (a key itself, or its block's representative) and rank them.
        int ci = 0;
        for (ContextPlan.Block b : blocks) {
            if (b.role() != ContextPlan.Role.WINDOW) continue;
            float[] keys = size == 1 ? b.keys(layer) : b.representatives()[layer];
            int groups = (b.length() + size - 1) / size;
            for (int g = 0; g < groups; g++, ci++) {
                s.sizes[ci] = Math.min(size, b.length() - g * size);
                cand[ci] = Vectors.dot(q, qOff, keys, g * kvDim + kvOff, headDim) * scale;
                order[ci] = ((long) sortable(cand[ci]) << 32) | (Integer.MAX_VALUE - ci);
            }
        }
        Arrays.sort(order, 0, candidates);
        boolean[] chosen = s.chosen;
        Arrays.fill(chosen, 0, candidates, false);
        int covered = 0;
        for (int r = candidates - 1; r >= 0 && covered < topK.k(); r--) {
            int g = Integer.MAX_VALUE - (int) order[r];
            chosen[g] = true;
            covered += s.sizes[g];
        }

        long scored = candidates;
        int i = 0;
        ci = 0;
        for (ContextPlan.Block b : blocks) {
            if (b.role() == ContextPlan.Role.WINDOW) {
                int groups = (b.length() + size - 1) / size;
                for (int g = 0; g < groups; g++, ci++) {
                    if (!chosen[ci]) continue;
                    int to = Math.min(b.length(), (g + 1) * size);
                    for (int j = g * size; j < to; j++) {
                        sc[i + j] = size == 1 ? cand[ci] : Vectors.dot(q, qOff, b.keys(layer), j * kvDim + kvOff, headDim) * scale;
                    }
                    if (size > 1) scored += to - g * size;
                }
            }
            i += b.length();
        }
        return scored;
    }

    /** An int that orders as the float does (for sorting scores packed into longs). */
    private static int sortable(float f) {
        int bits = Float.floatToIntBits(f);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /** APE on the window scores (the entries of window blocks that are not -inf). */
    private void applyApe(WindowAttention.Ape ape, float[] sc) {
        float temperature = ape.temperature();
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        for (ContextPlan.Block b : blocks) {
            if (b.role() == ContextPlan.Role.WINDOW) {
                for (int j = i; j < i + b.length(); j++) {
                    sc[j] /= temperature;
                    max = Math.max(max, sc[j]);
                }
            }
            i += b.length();
        }
        if (max == Float.NEGATIVE_INFINITY) return;  // no window keys
        double sum = 0;
        i = 0;
        for (ContextPlan.Block b : blocks) {
            if (b.role() == ContextPlan.Role.WINDOW) {
                for (int j = i; j < i + b.length(); j++) sum += Math.exp(sc[j] - max);
            }
            i += b.length();
        }
        float lse = (float) (max + Math.log(sum));
        float shift = (float) Math.log(ape.scale()) + (temperature - 1) * lse;
        i = 0;
        for (ContextPlan.Block b : blocks) {
            if (b.role() == ContextPlan.Role.WINDOW) {
                for (int j = i; j < i + b.length(); j++) sc[j] += shift;
            }
            i += b.length();
        }
    }
}
