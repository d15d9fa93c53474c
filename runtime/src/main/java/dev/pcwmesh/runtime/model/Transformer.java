package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.kernel.RmsNorm;
import dev.pcwmesh.runtime.kernel.SwiGlu;
import dev.pcwmesh.runtime.kernel.Vectors;
import dev.pcwmesh.runtime.kv.KvCache;

/**
 * The forward pass. A batch of tokens, each at its own position, runs through every layer and
 * extends the {@code live} cache; what each token attends to (segments a plan placed, and the
 * live rows causally) and how is the {@link Attention}'s business.
 *
 * <p>That one primitive serves plain generation (an empty plan), encoding a window after a shared
 * prefix (the prefix is the plan, the window is live and keeps its raw keys) and answering under a
 * plan (the plan's segments are the context, the question and answer are live).
 *
 * <p>An instance owns scratch buffers sized for the largest batch it has seen; decoding one
 * token at a time reuses them without allocating. Not thread-safe: one instance per session.
 */
public final class Transformer implements ForwardPass {

    /**
     * Tokens run through the layers together; longer inputs are processed in batches of this size.
     * Each batch unpacks every weight matrix once per worker and synchronises the workers a few
     * hundred times, so larger batches spread that over more tokens: 128 gave pp512 2-9 % above 64
     * (SmolLM2 and Qwen2.5 shapes, Q4_0); 256 was no better than 128 within this machine's noise.
     */
    public static final int DEFAULT_BATCH = 128;

    private final Model model;
    private final ModelConfig c;
    private final int maxBatch;

    private int batchCapacity;
    private float[] x, xb, q, rawQ, k, v, att, hb, hb2;
    private final float[] logits;
    /** While {@link #embed} runs: the sum of the final normalised hidden states. */
    private float[] pooled;

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
        rawQ = new float[n * c.qDim()];
        k = new float[n * c.kvDim()];
        v = new float[n * c.kvDim()];
        att = new float[n * c.qDim()];
        hb = new float[n * c.ffnDim()];
        hb2 = new float[n * c.ffnDim()];
    }

    @Override
    public void forward(int[] tokens, int[] positions, Attention attention, KvCache live, int logitsFrom, LogitsSink sink) {
        if (tokens.length != positions.length) throw new IllegalArgumentException("tokens and positions differ in length");
        live.ensureCapacity(live.length() + tokens.length);
        for (int start = 0; start < tokens.length; start += maxBatch) {
            int n = Math.min(maxBatch, tokens.length - start);
            batch(tokens, positions, start, n, attention, live, logitsFrom, sink);
        }
    }

    /**
     * A text embedding: the mean of the final normalised hidden states of {@code tokens} processed
     * causally from position 0 under {@code attention} (an empty plan). Used to rank windows by
     * cosine similarity to a question.
     */
    public float[] embed(int[] tokens, Attention attention) {
        if (tokens.length == 0) throw new IllegalArgumentException("nothing to embed: no tokens");
        int[] positions = new int[tokens.length];
        for (int i = 0; i < positions.length; i++) positions[i] = i;
        pooled = new float[c.dim()];
        try {
            forward(tokens, positions, attention, new KvCache(c.layers(), c.kvDim(), tokens.length, false), tokens.length, (row, l) -> { });
            float[] mean = pooled;
            Vectors.scale(mean, 0, mean.length, 1f / tokens.length);
            return mean;
        } finally {
            pooled = null;
        }
    }

    private void batch(int[] tokens, int[] positions, int start, int n, Attention attention, KvCache live,
                       int logitsFrom, LogitsSink sink) {
        ensureBatch(n);
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim(), headDim = c.headDim();
        Weights w = model.weights();
        Rope rope = attention.rope();
        boolean keepRawQ = attention.needsRawQueries();
        int base = live.length();
        for (int t = 0; t < n; t++) live.setPosition(base + t, positions[start + t]);

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
                if (keepRawQ) System.arraycopy(q, t * qDim, rawQ, t * qDim, qDim);
                rope.rotate(q, t * qDim, c.heads(), headDim, positions[start + t]);
                rope.rotate(k, t * kvDim, c.kvHeads(), headDim, positions[start + t]);
                System.arraycopy(k, t * kvDim, live.keys(l), row, kvDim);
                System.arraycopy(v, t * kvDim, live.values(l), row, kvDim);
            }
            attention.attend(l, positions, start, n, q, rawQ, live, att);
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

        if (pooled != null) {
            for (int t = 0; t < n; t++) {
                RmsNorm.apply(x, t * dim, w.outputNorm(), c.normEps(), xb, 0, dim);
                Vectors.add(xb, 0, pooled, 0, dim);
            }
        }

        for (int t = Math.max(0, logitsFrom - start); t < n; t++) {
            RmsNorm.apply(x, t * dim, w.outputNorm(), c.normEps(), xb, 0, dim);
            w.output().matVec(xb, logits);
            sink.accept(start + t, logits);
        }
    }
}
