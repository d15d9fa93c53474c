package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.kernel.Parallel;
import dev.pcwmesh.runtime.kernel.RmsNorm;
import dev.pcwmesh.runtime.kernel.Softmax;
import dev.pcwmesh.runtime.kernel.SwiGlu;
import dev.pcwmesh.runtime.kernel.Vectors;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.kv.KvView;

import java.util.List;

/**
 * The forward pass. A batch of tokens, each at its own position, runs through every layer; each
 * token attends to the tokens of the {@code context} blocks (keys already rotated to where a plan
 * placed them) and causally to the rows of the {@code live} cache, which the batch extends.
 *
 * <p>That one primitive serves plain generation (no context), encoding a window after a shared
 * prefix (the prefix is the context, the window is live and keeps its raw keys) and answering
 * under a plan (the plan's segments are the context, the question and answer are live).
 *
 * <p>An instance owns scratch buffers sized for the largest batch it has seen; decoding one
 * token at a time reuses them without allocating. Not thread-safe: one instance per session.
 */
public final class Transformer {

    /** Receives the logits of one row of the batch. {@code logits} is reused after the call returns. */
    @FunctionalInterface
    public interface LogitsSink {
        void accept(int row, float[] logits);
    }

    /** Tokens run through the layers together; longer inputs are processed in batches of this size. */
    public static final int DEFAULT_BATCH = 64;

    private final Model model;
    private final ModelConfig c;
    private final int maxBatch;

    private int batchCapacity;
    private float[] x, xb, q, k, v, att, hb, hb2;
    private final float[] logits;
    private final ThreadLocal<float[]> scores = ThreadLocal.withInitial(() -> new float[256]);

    public Transformer(Model model) {
        this(model, DEFAULT_BATCH);
    }

    public Transformer(Model model, int maxBatch) {
        this.model = model;
        this.c = model.config();
        this.maxBatch = maxBatch;
        this.logits = new float[c.vocabSize()];
        ensureBatch(1);
    }

    public Model model() { return model; }

    private void ensureBatch(int n) {
        if (n <= batchCapacity) return;
        batchCapacity = n;
        x = new float[n * c.dim()];
        xb = new float[n * c.dim()];
        q = new float[n * c.qDim()];
        k = new float[n * c.kvDim()];
        v = new float[n * c.kvDim()];
        att = new float[n * c.qDim()];
        hb = new float[n * c.ffnDim()];
        hb2 = new float[n * c.ffnDim()];
    }

    /**
     * Runs {@code tokens} at {@code positions} and appends them to {@code live}. Logits of rows
     * {@code logitsFrom} and later (indices into {@code tokens}) go to {@code sink}; pass
     * {@code tokens.length} for none.
     */
    public void forward(int[] tokens, int[] positions, List<? extends KvView> context, KvCache live, int logitsFrom, LogitsSink sink) {
        if (tokens.length != positions.length) throw new IllegalArgumentException("tokens and positions differ in length");
        live.ensureCapacity(live.length() + tokens.length);
        for (int start = 0; start < tokens.length; start += maxBatch) {
            int n = Math.min(maxBatch, tokens.length - start);
            batch(tokens, positions, start, n, context, live, logitsFrom, sink);
        }
    }

    private void batch(int[] tokens, int[] positions, int start, int n, List<? extends KvView> context, KvCache live,
                       int logitsFrom, LogitsSink sink) {
        ensureBatch(n);
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim(), headDim = c.headDim();
        Weights w = model.weights();
        Rope rope = model.rope();
        int base = live.length();

        for (int t = 0; t < n; t++) {
            int id = tokens[start + t];
            if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + c.vocabSize());
            w.tokenEmbedding().row(id, x, t * dim);
        }

        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers()[l];
            for (int t = 0; t < n; t++) RmsNorm.apply(x, t * dim, lw.attnNorm(), c.normEps(), xb, t * dim, dim);
            lw.wq().matMul(xb, n, q);
            lw.wk().matMul(xb, n, k);
            lw.wv().matMul(xb, n, v);
            for (int t = 0; t < n; t++) {
                if (lw.qBias() != null) Vectors.add(lw.qBias(), 0, q, t * qDim, qDim);
                if (lw.kBias() != null) Vectors.add(lw.kBias(), 0, k, t * kvDim, kvDim);
                if (lw.vBias() != null) Vectors.add(lw.vBias(), 0, v, t * kvDim, kvDim);
                if (lw.qNorm() != null) {
                    for (int h = 0; h < c.heads(); h++) RmsNorm.apply(q, t * qDim + h * headDim, lw.qNorm(), c.normEps(), q, t * qDim + h * headDim, headDim);
                    for (int h = 0; h < c.kvHeads(); h++) RmsNorm.apply(k, t * kvDim + h * headDim, lw.kNorm(), c.normEps(), k, t * kvDim + h * headDim, headDim);
                }
                int row = (base + t) * kvDim;
                if (live.keepsRawKeys()) System.arraycopy(k, t * kvDim, live.rawKeys(l), row, kvDim);
                rope.rotate(q, t * qDim, c.heads(), headDim, positions[start + t]);
                rope.rotate(k, t * kvDim, c.kvHeads(), headDim, positions[start + t]);
                System.arraycopy(k, t * kvDim, live.keys(l), row, kvDim);
                System.arraycopy(v, t * kvDim, live.values(l), row, kvDim);
            }
            attention(l, n, base, context, live);
            lw.wo().matMul(att, n, xb);
            Vectors.add(xb, 0, x, 0, n * dim);

            for (int t = 0; t < n; t++) RmsNorm.apply(x, t * dim, lw.ffnNorm(), c.normEps(), xb, t * dim, dim);
            lw.gate().matMul(xb, n, hb);
            lw.up().matMul(xb, n, hb2);
            SwiGlu.apply(hb, hb2, n * ffn);
            lw.down().matMul(hb, n, xb);
            Vectors.add(xb, 0, x, 0, n * dim);
        }
        live.commit(n);

        for (int t = Math.max(0, logitsFrom - start); t < n; t++) {
            RmsNorm.apply(x, t * dim, w.outputNorm(), c.normEps(), xb, 0, dim);
            w.output().matVec(xb, logits);
            sink.accept(start + t, logits);
        }
    }

    /**
     * Multi-head attention of the batch's queries over the context blocks and the live cache;
     * query head {@code h} reads key/value head {@code h / groupSize}.
     */
    private void attention(int layer, int n, int base, List<? extends KvView> context, KvCache live) {
        int qDim = c.qDim(), kvDim = c.kvDim(), headDim = c.headDim(), heads = c.heads(), group = c.groupSize();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int contextLength = 0;
        for (KvView b : context) contextLength += b.length();
        int maxKeys = contextLength + base + n;
        Parallel.forRange(n * heads, Parallel.minChunk(2L * maxKeys * headDim), (from, to) -> {
            float[] s = scores.get();
            if (s.length < maxKeys) {
                s = new float[maxKeys];
                scores.set(s);
            }
            for (int task = from; task < to; task++) {
                int t = task / heads, h = task % heads;
                int qOff = t * qDim + h * headDim;
                int kvOff = (h / group) * headDim;
                int keys = 0;
                for (KvView b : context) {
                    float[] kb = b.keys(layer);
                    for (int j = 0; j < b.length(); j++) s[keys++] = Vectors.dot(q, qOff, kb, j * kvDim + kvOff, headDim) * scale;
                }
                float[] kl = live.keys(layer);
                int visible = base + t + 1;
                for (int j = 0; j < visible; j++) s[keys++] = Vectors.dot(q, qOff, kl, j * kvDim + kvOff, headDim) * scale;

                Softmax.apply(s, 0, keys);

                java.util.Arrays.fill(att, qOff, qOff + headDim, 0f);
                int i = 0;
                for (KvView b : context) {
                    float[] vb = b.values(layer);
                    for (int j = 0; j < b.length(); j++) Vectors.axpy(s[i++], vb, j * kvDim + kvOff, att, qOff, headDim);
                }
                float[] vl = live.values(layer);
                for (int j = 0; j < visible; j++) Vectors.axpy(s[i++], vl, j * kvDim + kvOff, att, qOff, headDim);
            }
        });
    }
}
