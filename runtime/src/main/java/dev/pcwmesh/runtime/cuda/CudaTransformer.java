package dev.pcwmesh.runtime.cuda;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.PlanAttention;
import dev.pcwmesh.runtime.context.WindowAttention;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.ForwardPass;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.Rope;
import dev.pcwmesh.runtime.model.RopeLayout;
import dev.pcwmesh.runtime.model.Transformer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The forward pass on an NVIDIA GPU, step for step the {@link Transformer}'s: embedding lookup,
 * then per layer RMSNorm, the q/k/v products (cuBLAS), biases, q/k norms, RoPE with the CPU's
 * own cosine and sine tables, the batch's rows appended to the device copy of the live cache,
 * attention over the plan's placed segments and the live rows, the output product, the gated
 * feed-forward (the output and down products add into the residual stream themselves); then the
 * final norm and the logits of the rows asked for. Attention runs in our kernels: for short
 * batches (decode) in float, for long ones (prefill) as flash attention on the tensor cores, or
 * as cuBLAS matrix products where that kernel does not apply (APE, other head sizes). A single
 * token (a decode step) takes our decode kernels instead of cuBLAS: five launches a layer that
 * read each weight once and fold the norms, biases, RoPE, cache store, SiLU and residual adds
 * into the products ({@link #useDecodeKernels}).
 *
 * <p>The host {@link KvCache} stays the truth that the rest of the runtime reads; the device
 * holds a mirror of it. Rows the GPU computes are copied back only when someone needs them on
 * the host: always for a cache that keeps raw keys (an encoder's window, which becomes a
 * segment), and before any pass this backend hands to the CPU. Rows the CPU appended are
 * uploaded before the next device pass. So a plan the GPU cannot run (ReRoPE, top-k token
 * selection, the attention probe) runs on the CPU over the same cache, seamlessly.
 *
 * <p>The plan's placed segments are uploaded once per plan. Scratch memory grows with the
 * largest batch; everything is freed by {@link #close} (or, failing that, when the pass is
 * collected). One thread at a time.
 */
public final class CudaTransformer implements ForwardPass {
    /** Tokens run through the layers together; longer inputs are processed in batches of this size. */
    public static final int DEFAULT_BATCH = 4096;
    private static final Cleaner CLEANER = Cleaner.create();

    private final Model model;
    private final ModelConfig c;
    private final int maxBatch;
    private final CudaDevice device;
    private final CudaWeights w;
    private final State s;
    private final Cleaner.Cleanable cleanable;
    private final float[] logits;
    private Transformer cpu;

    public CudaTransformer(Model model) {
        this(model, DEFAULT_BATCH);
    }

    public CudaTransformer(Model model, int maxBatch) {
        this.model = model;
        this.c = model.config();
        this.maxBatch = maxBatch;
        this.device = CudaDevice.get();
        device.makeCurrent();
        this.w = CudaWeights.of(model);
        if (c.headDim() > 256) throw new CudaException("head size " + c.headDim() + " is above the 256 the attention kernels take");
        this.s = new State(device);
        this.cleanable = CLEANER.register(this, s);
        this.logits = new float[c.vocabSize()];
    }

    /** Device memory this pass and its model's weights hold, in bytes. */
    public long deviceBytes() {
        return w.bytes + w.halfCopyBytes() + s.bytes();
    }

    @Override
    public void forward(int[] tokens, int[] positions, Attention attention, KvCache live, int logitsFrom, LogitsSink sink) {
        if (tokens.length != positions.length) throw new IllegalArgumentException("tokens and positions differ in length");
        String limitation = attention instanceof PlanAttention pa ? pa.deviceLimitation() : "an attention that is not a plan's";
        device.makeCurrent();
        if (limitation != null) {
            downloadRows(live);
            if (cpu == null) cpu = new Transformer(model);
            cpu.forward(tokens, positions, attention, live, logitsFrom, sink);
            return;
        }
        ContextPlan plan = ((PlanAttention) attention).plan();
        live.ensureCapacity(live.length() + tokens.length);
        mirror(live, tokens.length);
        usePlan(plan);
        for (int start = 0; start < tokens.length; start += maxBatch) {
            int n = Math.min(maxBatch, tokens.length - start);
            batch(tokens, positions, start, n, plan, attention.rope(), live, logitsFrom, sink);
        }
        if (live.keepsRawKeys()) downloadRows(live);
    }

    private void batch(int[] tokens, int[] positions, int start, int n, ContextPlan plan, Rope rope, KvCache live,
                       int logitsFrom, LogitsSink sink) {
        s.ensureBatch(n, c);
        int base = live.length();
        int[] ids = new int[n];
        int half = rope.dims() / 2;
        float[] cos = new float[n * half], sin = new float[n * half];
        for (int t = 0; t < n; t++) {
            int id = tokens[start + t];
            if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + c.vocabSize());
            ids[t] = id;
            live.setPosition(base + t, positions[start + t]);
            rope.cosSin(positions[start + t], cos, sin, t * half);
        }
        // Token ids, the cache row, cosines and sines: one copy from page-locked memory, laid out
        // for this batch's n (a decode step's layout, and so its graph's pointers, never change).
        s.layOutStep(n, half);
        MemorySegment staging = s.stepHost;
        MemorySegment.copy(ids, 0, staging, JAVA_INT, s.tokens - s.step, n);
        staging.set(JAVA_INT, s.base - s.step, base);
        MemorySegment.copy(cos, 0, staging, JAVA_FLOAT, s.cos - s.step, cos.length);
        MemorySegment.copy(sin, 0, staging, JAVA_FLOAT, s.sin - s.step, sin.length);
        device.driver.copyToDevice(s.step, staging, s.stepBytes(n, half), s.stream);
        int from = Math.max(0, logitsFrom - start);
        int rows = n - from;
        if (rows > 0) s.ensureLogits(rows, c.vocabSize());

        prepareScratch(n, base, rows, rope);
        if (graphs && n == 1 && s.raw == null && profile == null) {
            decodeStep(base, rows, plan, rope);
        } else {
            pass(n, base, from, rows, plan, rope);
        }
        s.deviceLength += n;
        live.commit(n);

        if (rows > 0) {
            int vocab = c.vocabSize();
            try (Arena a = Arena.ofConfined()) {
                long bytes = 4L * rows * vocab;
                MemorySegment host = s.logitsHost != null && bytes <= s.logitsHost.byteSize() ? s.logitsHost : a.allocate(bytes);
                device.driver.copyToHost(host, s.logits, bytes, s.stream);
                device.driver.synchronize(s.stream);
                for (int r = 0; r < rows; r++) {
                    MemorySegment.copy(host, JAVA_FLOAT, 4L * r * vocab, logits, 0, vocab);
                    sink.accept(start + from + r, logits);
                }
            }
        } else {
            device.driver.synchronize(s.stream);
        }
        if (profile != null) profile.finish(device, s.stream);
    }

    /** Whether single-token steps run as a captured CUDA graph. */
    private boolean graphs = true;

    /**
     * Runs decode steps (one token, no raw keys kept) as one CUDA graph, captured at the first
     * step and replayed while nothing it refers to changes: one launch per token instead of
     * twenty per layer, whose host time otherwise leaves the GPU waiting. On by default; off
     * compares the two (the results are the same).
     */
    public void useGraphs(boolean on) {
        graphs = on;
        if (!on) s.dropGraph();
    }

    /** Whether a captured decode step's kernels are programmatic dependent launches. */
    private boolean programmaticLaunch = false;

    /**
     * A captured decode step's kernels are launched as programmatic dependents (compute
     * capability 9.0 and later): each may start while the kernel before it drains, which shortens
     * the gap between a step's hundred-odd small kernels. Off by default until a GPU run has
     * measured it (runtime/src/test/gpu/RESULTS.md); the results are the same either way.
     */
    public void useProgrammaticLaunch(boolean on) {
        if (on) device.requireProgrammaticLaunch();
        programmaticLaunch = on;
        s.dropGraph();
    }

    /**
     * What a captured step depends on besides the buffers' contents: every device pointer in it
     * (any allocation bumps {@code generation}), the context length and the APE settings.
     */
    private record StepKey(long generation, int rows, int context, WindowAttention.Ape ape, boolean splitAttention) {}

    private void decodeStep(int base, int rows, ContextPlan plan, Rope rope) {
        StepKey key = new StepKey(s.generation, rows, s.contextLength, plan.windowAttention().ape(), splitAttention(1, base));
        if (!key.equals(s.graphKey)) {
            s.dropGraph();
            device.driver.beginCapture(s.stream);
            try {
                if (programmaticLaunch) device.withProgrammaticLaunches(() -> pass(1, base, 0, rows, plan, rope));
                else pass(1, base, 0, rows, plan, rope);
            } catch (RuntimeException e) {
                try {
                    device.driver.destroyGraph(device.driver.endCapture(s.stream));
                } catch (RuntimeException ignored) {
                    // the capture's own error is the one to report
                }
                throw e;
            }
            s.graph = device.driver.endCapture(s.stream);
            s.graphKey = key;
        }
        device.driver.launchGraph(s.graph, s.stream);
    }

    /**
     * The device work of a batch, queued on the stream and never waiting for it (so that a decode
     * step can be captured as a graph): embedding, the layers, then, for {@code rows} rows from
     * {@code from}, the final norm and the logits into {@code s.logits}. One token goes through
     * the decode kernels where they apply, a batch through cuBLAS.
     */
    private void pass(int n, int base, int from, int rows, ContextPlan plan, Rope rope) {
        if (n == 1 && decodeKernelsApply(rope)) decodeLayers(base, rows, plan, rope);
        else layers(n, base, from, rows, plan, rope);
    }

    /** The batch's work through cuBLAS products and the per-step kernels. */
    private void layers(int n, int base, int from, int rows, ContextPlan plan, Rope rope) {
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim(), headDim = c.headDim();
        int heads = c.heads(), kvHeads = c.kvHeads();
        int half = rope.dims() / 2;
        int neox = rope.layout() == RopeLayout.NEOX ? 1 : 0;
        MemorySegment stream = s.stream;

        mark("embedding");
        device.launch("embed_rows", n, 1, 256, stream, w.embedding.pointer(), w.embedding.kernelType(), s.tokens, dim, s.x);
        for (int l = 0; l < c.layers(); l++) {
            CudaWeights.Layer lw = w.layers[l];
            mark("q, k, v");
            rmsNorm(s.x, lw.attnNorm(), s.xb, n, dim);
            Operand in = new Operand(s.xb, (long) n * dim);
            matMul(lw.wq(), in, s.q, n);
            matMul(lw.wk(), in, s.k, n);
            matMul(lw.wv(), in, s.v, n);
            if (lw.qBias() != 0) addBias(s.q, lw.qBias(), qDim, n);
            if (lw.kBias() != 0) addBias(s.k, lw.kBias(), kvDim, n);
            if (lw.vBias() != 0) addBias(s.v, lw.vBias(), kvDim, n);
            if (lw.qNorm() != 0) {
                rmsNorm(s.q, lw.qNorm(), s.q, n * heads, headDim);
                rmsNorm(s.k, lw.kNorm(), s.k, n * kvHeads, headDim);
            }
            mark("rope and cache");
            if (s.raw != null) device.driver.copyOnDevice(s.raw[l] + 4L * base * kvDim, s.k, 4L * n * kvDim, stream);
            device.launch("rope", CudaDevice.blocks((long) n * heads * half, 256), 1, 256, stream,
                    s.q, s.cos, s.sin, heads, headDim, rope.dims(), neox, n);
            device.launch("rope", CudaDevice.blocks((long) n * kvHeads * half, 256), 1, 256, stream,
                    s.k, s.cos, s.sin, kvHeads, headDim, rope.dims(), neox, n);
            device.launch("store_rows", CudaDevice.blocks((long) n * kvDim, 256), 2, 256, stream,
                    s.k, s.v, s.keys[l], s.values[l], s.base, kvDim, (long) n * kvDim);
            mark("attention");
            attention(l, n, base, plan);
            mark("output projection");
            matMul(lw.wo(), new Operand(s.att, (long) n * qDim), s.x, n, true);

            mark("feed-forward");
            rmsNorm(s.x, lw.ffnNorm(), s.xb, n, dim);
            in = new Operand(s.xb, (long) n * dim);
            matMul(lw.gate(), in, s.hb, n);
            matMul(lw.up(), in, s.hb2, n);
            device.launch("silu_mul", CudaDevice.blocks((long) n * ffn, 256), 1, 256, stream, s.hb, s.hb2, (long) n * ffn);
            matMul(lw.down(), new Operand(s.hb, (long) n * ffn), s.x, n, true);
        }
        mark("logits");
        if (rows > 0 && logitsByMatVec(rows, rope)) {
            for (int r = 0; r < rows; r++) {
                matVec(s.x + 4L * (from + r) * dim, w.outputNorm, false, new Product(w.output, 0, s.logits + 4L * r * c.vocabSize()));
            }
        } else if (rows > 0) {
            rmsNorm(s.x + 4L * from * dim, w.outputNorm, s.xb, rows, dim);
            matMul(w.output, new Operand(s.xb, (long) rows * dim), s.logits, rows);
        }
    }

    /** At most this many rows of logits are computed row by row in the matvec kernel (a prompt's last rows, typically one). */
    private static final int MATVEC_LOGIT_ROWS = 8;

    private boolean logitsByMatVec(int rows, Rope rope) {
        return rows <= MATVEC_LOGIT_ROWS && decodeKernelsApply(rope);
    }

    /**
     * Allocates what the pass will use and cannot allocate itself while a decode step is being
     * captured as a graph (allocation is not allowed then): split attention's states, and for a
     * pass through cuBLAS the F16 form of quantized matrices (the model's copies, or scratch
     * that each product dequantises into when the copies do not fit).
     */
    private void prepareScratch(int n, int base, int rows, Rope rope) {
        if (splitAttention(n, base)) s.partial.atLeast(4L * n * c.heads() * attentionSplits() * (4 + 2 * c.headDim()));
        boolean viaCublas = !(n == 1 && decodeKernelsApply(rope));
        boolean logitsViaCublas = rows > 0 && !logitsByMatVec(rows, rope);
        if ((viaCublas || logitsViaCublas) && !w.ensureHalfCopies(s.stream)) {
            long scratch = viaCublas ? w.largestQuantizedLayerHalfBytes : 0;
            if (logitsViaCublas && w.output.quantized()) scratch = Math.max(scratch, w.output.halfBytes());
            s.halfWeights.atLeast(scratch);
        }
    }

    // ---- decode kernels ------------------------------------------------------------------------

    /** Whether one-token steps use the decode kernels. */
    private boolean decodeKernels = true;

    /**
     * One-token steps (decode) run on our decode kernels: five launches a layer (RMSNorm with the
     * q/k/v products, biases, RoPE and the cache store; attention; the output product added into
     * the residual; RMSNorm with gate, up and SiLU; the down product added), each reading its
     * weights once at 16 bytes a lane, instead of about twenty launches and cuBLAS's products,
     * which are far from bandwidth for one row. (Qwen3's q/k norms, q/k/v of different types or a
     * cache that keeps raw keys put RoPE and the store in a launch of their own.) On by default;
     * off runs a step as a batch of one.
     */
    public void useDecodeKernels(boolean on) {
        decodeKernels = on;
        s.dropGraph();
    }

    /** Warps a block and rows a warp of the matvec kernels (MV_WARPS, MV_ROWS in kernels.cu). */
    private static final int MATVEC_WARPS = 8, MATVEC_ROWS = 2;

    /** Whether the decode kernels are on and take this model: its vectors fit shared memory, its heads and rotations come in pairs. */
    private boolean decodeKernelsApply(Rope rope) {
        return decodeKernels && Math.max(Math.max(c.dim(), c.qDim()), c.ffnDim()) <= device.matVecMaxColumns() && c.headDim() % 2 == 0
                && rope.dims() % 2 == 0;
    }

    /** What {@link #layers} does for one token, in the decode kernels. */
    private void decodeLayers(int base, int rows, ContextPlan plan, Rope rope) {
        int dim = c.dim(), kvDim = c.kvDim(), headDim = c.headDim(), heads = c.heads(), kvHeads = c.kvHeads();
        int neox = rope.layout() == RopeLayout.NEOX ? 1 : 0;
        MemorySegment stream = s.stream;

        mark("embedding");
        device.launch("embed_rows", 1, 1, 256, stream, w.embedding.pointer(), w.embedding.kernelType(), s.tokens, dim, s.x);
        for (int l = 0; l < c.layers(); l++) {
            CudaWeights.Layer lw = w.layers[l];
            mark("q, k, v");
            boolean oneType = lw.wq().kernelType() == lw.wk().kernelType() && lw.wk().kernelType() == lw.wv().kernelType();
            if (oneType && lw.qNorm() == 0 && s.raw == null) {
                // q, k and v, their biases, RoPE and the cache store in one launch
                CudaWeights.Matrix wq = lw.wq();
                device.launchShared("matvec_qkv_rope", matVecBlocks((heads + 2 * kvHeads) * headDim), 1, 32 * MATVEC_WARPS, 4 * dim, stream,
                        wq.kernelType(), dim, s.x, lw.attnNorm(), c.normEps(), wq.pointer(), lw.qBias(), lw.wk().pointer(), lw.kBias(),
                        lw.wv().pointer(), lw.vBias(), heads, kvHeads, headDim, rope.dims(), neox, s.cos, s.sin, s.q, s.keys[l],
                        s.values[l], s.base);
            } else {
                if (oneType) {
                    matVec(s.x, lw.attnNorm(), false, new Product(lw.wq(), lw.qBias(), s.q), new Product(lw.wk(), lw.kBias(), s.k),
                            new Product(lw.wv(), lw.vBias(), s.v));
                } else {
                    matVec(s.x, lw.attnNorm(), false, new Product(lw.wq(), lw.qBias(), s.q));
                    matVec(s.x, lw.attnNorm(), false, new Product(lw.wk(), lw.kBias(), s.k));
                    matVec(s.x, lw.attnNorm(), false, new Product(lw.wv(), lw.vBias(), s.v));
                }
                if (lw.qNorm() != 0) {
                    rmsNorm(s.q, lw.qNorm(), s.q, heads, headDim);
                    rmsNorm(s.k, lw.kNorm(), s.k, kvHeads, headDim);
                }
                mark("rope and cache");
                if (s.raw != null) device.driver.copyOnDevice(s.raw[l] + 4L * base * kvDim, s.k, 4L * kvDim, stream);
                device.launch("rope_store", CudaDevice.blocks((long) (heads + kvHeads) * headDim / 2, 256), 1, 256, stream,
                        s.q, s.k, s.v, s.cos, s.sin, heads, kvHeads, headDim, rope.dims(), neox, s.keys[l], s.values[l], s.base);
            }
            mark("attention");
            attention(l, 1, base, plan);
            mark("output projection");
            matVec(s.att, 0, true, new Product(lw.wo(), 0, s.x));
            feedForward(lw);
        }
        mark("logits");
        if (rows > 0) matVec(s.x, w.outputNorm, false, new Product(w.output, 0, s.logits));
    }

    /** One token's RMSNorm, gated feed-forward and down product added into the residual, in the decode kernels. */
    private void feedForward(CudaWeights.Layer lw) {
        mark("feed-forward");
        int dim = c.dim(), ffn = c.ffnDim();
        if (lw.gate().kernelType() == lw.up().kernelType()) {
            CudaWeights.Matrix g = lw.gate();
            device.launchShared("matvec_gated", matVecBlocks(g.rows()), 1, 32 * MATVEC_WARPS, 4 * dim, s.stream,
                    g.kernelType(), dim, s.x, lw.ffnNorm(), c.normEps(), g.pointer(), lw.up().pointer(), s.hb, g.rows());
        } else {
            matVec(s.x, lw.ffnNorm(), false, new Product(lw.gate(), 0, s.hb));
            matVec(s.x, lw.ffnNorm(), false, new Product(lw.up(), 0, s.hb2));
            device.launch("silu_mul", CudaDevice.blocks(ffn, 256), 1, 256, s.stream, s.hb, s.hb2, (long) ffn);
        }
        matVec(s.hb, 0, true, new Product(lw.down(), 0, s.x));
    }

    /** A matrix of a matvec launch, its bias (0 for none) and where its rows go. */
    private record Product(CudaWeights.Matrix m, long bias, long y) {}

    /**
     * One launch of the matvec kernel: {@code y = m·x + bias} for each product (at most three,
     * of one type and width), x RMSNormed by {@code norm} first unless it is 0, added into y
     * when {@code accumulate}.
     */
    private void matVec(long x, long norm, boolean accumulate, Product... products) {
        int cols = products[0].m().cols();
        for (Product p : products) {
            if (p.m().cols() != cols || p.m().kernelType() != products[0].m().kernelType()) {
                throw new IllegalArgumentException("one matvec launch takes one type and width");
            }
        }
        Object[] args = new Object[6 + 4 * 3];
        args[0] = products[0].m().kernelType();
        args[1] = cols;
        args[2] = x;
        args[3] = norm;
        args[4] = c.normEps();
        args[5] = accumulate ? 1 : 0;
        int rows = 0;
        for (int i = 0; i < 3; i++) {
            Product p = i < products.length ? products[i] : null;
            args[6 + 4 * i] = p == null ? 0L : p.m().pointer();
            args[7 + 4 * i] = p == null ? 0L : p.bias();
            args[8 + 4 * i] = p == null ? 0L : p.y();
            args[9 + 4 * i] = p == null ? 0 : p.m().rows();
            rows += p == null ? 0 : (p.m().rows() + MATVEC_ROWS - 1) / MATVEC_ROWS * MATVEC_ROWS;
        }
        device.launchShared("matvec", matVecBlocks(rows), 1, 32 * MATVEC_WARPS, 4 * cols, s.stream, args);
    }

    /** Blocks of the matvec kernels for {@code rows} rows (each matrix's rounded up to whole warps). */
    private static int matVecBlocks(int rows) {
        int warps = (rows + MATVEC_ROWS - 1) / MATVEC_ROWS;
        return (warps + MATVEC_WARPS - 1) / MATVEC_WARPS;
    }

    // ---- profiling ---------------------------------------------------------------------------

    private Profile profile;

    /**
     * Times the steps of every batch with CUDA events from now on (or stops, with false); the
     * sums are in {@link #profileMillis()}. For finding where the time goes, as {@code GpuCheck}
     * does; the events cost a little, so it is off by default.
     */
    public void profile(boolean on) {
        profile = on ? new Profile() : null;
    }

    /** Milliseconds spent in each step since profiling began, in the order the steps run. */
    public java.util.Map<String, Double> profileMillis() {
        return profile == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(profile.totals);
    }

    private void mark(String step) {
        if (profile != null) profile.mark(step, device, s.stream);
    }

    /** Events recorded between steps; each interval is charged to the step it follows. */
    private static final class Profile {
        final java.util.Map<String, Double> totals = new java.util.LinkedHashMap<>();
        private final List<String> steps = new ArrayList<>();
        private final List<MemorySegment> events = new ArrayList<>();

        void mark(String step, CudaDevice device, MemorySegment stream) {
            MemorySegment e = device.driver.createEvent();
            device.driver.record(e, stream);
            steps.add(step);
            events.add(e);
        }

        void finish(CudaDevice device, MemorySegment stream) {
            MemorySegment end = device.driver.createEvent();
            device.driver.record(end, stream);
            events.add(end);
            for (int i = 0; i < steps.size(); i++) {
                totals.merge(steps.get(i), (double) device.driver.elapsedMillis(events.get(i), events.get(i + 1)), Double::sum);
            }
            for (MemorySegment e : events) device.driver.destroyEvent(e);
            steps.clear();
            events.clear();
        }
    }

    private void rmsNorm(long x, long weight, long out, int rows, int n) {
        device.launch("rms_norm", rows, 1, 256, s.stream, x, weight, c.normEps(), out, n);
    }

    private void addBias(long x, long bias, int n, int rows) {
        long total = (long) n * rows;
        device.launch("add_bias", CudaDevice.blocks(total, 256), 1, 256, s.stream, x, bias, n, total);
    }

    /** Activations in float, converted once per batch to the half type a weight needs (into scratch). */
    private final class Operand {
        final long f32, count;
        long f16, bf16;

        Operand(long f32, long count) {
            this.f32 = f32;
            this.count = count;
        }

        long as(int type) {
            if (type == Cublas.CUDA_R_32F) return f32;
            if (type == Cublas.CUDA_R_16F) {
                if (f16 == 0) {
                    device.launch("convert_f32_f16", CudaDevice.blocks(count, 256), 1, 256, s.stream, f32, s.half16, count);
                    f16 = s.half16;
                }
                return f16;
            }
            if (bf16 == 0) {
                device.launch("convert_f32_bf16", CudaDevice.blocks(count, 256), 1, 256, s.stream, f32, s.halfBf16, count);
                bf16 = s.halfBf16;
            }
            return bf16;
        }
    }

    private void matMul(CudaWeights.Matrix m, Operand x, long y, int n) {
        matMul(m, x, y, n, false);
    }

    /**
     * {@code y = x·mᵀ}, or {@code y += x·mᵀ} when {@code accumulate} (the residual stream adds
     * itself), in cuBLAS; a quantized matrix through its F16 copy, or dequantised into scratch.
     */
    private void matMul(CudaWeights.Matrix m, Operand x, long y, int n, boolean accumulate) {
        long weights = m.pointer();
        if (m.quantized()) {
            weights = w.halfCopy(m);
            if (weights == 0) {
                if (m.halfBytes() > s.halfWeights.bytes) throw new IllegalStateException("weight scratch not prepared for " + m);
                weights = s.halfWeights.pointer;
                m.dequantize(device, weights, s.stream);
            }
        }
        s.cublas.matMul(weights, x.as(m.cublasType()), y, m.rows(), n, m.cols(), m.cublasType(), accumulate);
    }

    private void attention(int layer, int n, int base, ContextPlan plan) {
        int heads = c.heads(), headDim = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        WindowAttention.Ape ape = plan.windowAttention().ape();
        int apeOn = ape != null ? 1 : 0;
        float temperature = ape != null ? ape.temperature() : 1f;
        float lnScale = ape != null ? (float) Math.log(ape.scale()) : 0f;
        long ctxK = s.contextLength > 0 ? s.contextKeys[layer] : 0, ctxV = s.contextLength > 0 ? s.contextValues[layer] : 0;
        if (n >= BATCHED_ATTENTION_FROM) {
            if (flash && ape == null && (headDim == 64 || headDim == 128) && device.hasTensorCoreKernels()) {
                int kvDim = c.kvDim(), keys = s.contextLength + base + n, padded = (keys + 63) / 64 * 64;
                long k16 = s.staged.atLeast(4L * padded * kvDim), vt16 = k16 + 2L * padded * kvDim;
                device.launch("stage_kv_f16", padded / 32, kvDim / 32, 256, s.stream, ctxK, ctxV, s.contextLength, s.keys[layer],
                        s.values[layer], keys, padded, kvDim, k16, vt16);
                device.launch("flash_attention_" + headDim, CudaDevice.blocks(n, 64), heads, 128, s.stream, s.q, n, heads,
                        c.kvHeads(), scale, k16, vt16, padded, s.contextLength, base, s.att);
            } else {
                batchedAttention(layer, n, base, scale, apeOn, temperature, lnScale);
            }
            return;
        }
        if (splitAttention(n, base)) {
            int splits = attentionSplits();
            long partial = s.partial.pointer;              // sized by prepareScratch
            device.launch("attention_split", n * heads, splits, 32 * SPLIT_WARPS, s.stream, s.q, heads, c.kvHeads(), headDim, scale,
                    ctxK, ctxV, s.windowFlags, s.contextLength, s.keys[layer], s.values[layer], s.base, apeOn, temperature, partial);
            device.launch("attention_merge", n * heads, 1, 128, s.stream, partial, headDim, splits, apeOn, temperature, lnScale, s.att);
        } else if (n >= 16 && headDim % 4 == 0 && headDim <= 128) {
            device.launch("attention_tiled", CudaDevice.blocks(n, 32), heads, 128, s.stream, s.q, n, heads, c.kvHeads(), headDim,
                    scale, ctxK, ctxV, s.windowFlags, s.contextLength, s.keys[layer], s.values[layer], base, apeOn, temperature,
                    lnScale, s.att);
        } else {
            device.launch("attention_rows", n * heads, 1, 256, s.stream, s.q, n, heads, c.kvHeads(), headDim, scale, ctxK, ctxV,
                    s.windowFlags, s.contextLength, s.keys[layer], s.values[layer], s.base, apeOn, temperature, lnScale, s.att);
        }
    }

    /** A token that sees at least this many keys attends in splits (attention_split and attention_merge)... */
    static final int SPLIT_ATTENTION_FROM = 512;
    /**
     * ...in a batch of at most this many tokens: a decode step, or a short question after its
     * windows (each token's block reads its keys again, from L2; longer batches reuse each key
     * tile across 32 tokens in attention_tiled, or go to cuBLAS).
     */
    static final int SPLIT_ATTENTION_MAX_TOKENS = 8;
    /** Warps a block of attention_split (SPLIT_WARPS in kernels.cu). */
    private static final int SPLIT_WARPS = 4;
    private int splitAttentionFrom = SPLIT_ATTENTION_FROM;

    /** Sets the fewest keys that one token's attention takes in splits (for measuring both kernels on one context). */
    void splitAttentionFrom(int keys) {
        splitAttentionFrom = keys;
        s.dropGraph();
    }

    /**
     * Whether a few tokens' attention over their keys runs split across blocks: attention_rows
     * gives a (token, head) one block, so a decode step's 14 heads leave most of an H200's 132
     * multiprocessors idle while a long context is read.
     */
    private boolean splitAttention(int n, int base) {
        return n <= SPLIT_ATTENTION_MAX_TOKENS && s.contextLength + base + n >= splitAttentionFrom;
    }

    /** Splits of a head's keys: about two blocks a multiprocessor over all heads. */
    private int attentionSplits() {
        return Math.clamp((2L * device.multiprocessors() + c.heads() - 1) / c.heads(), 2, 64);
    }

    /** Whether long batches use the flash-attention kernel where it applies. */
    private boolean flash = false;

    /**
     * Long batches (prefill) take attention through the flash-attention kernel (F16 on the tensor
     * cores, no score matrix in memory) when the plan has no APE and heads are 64 or 128 wide on a
     * GPU of compute capability 8.0 or later; otherwise, or when this is off, through cuBLAS.
     * Off by default: on an H200 its first version was right (5e-4 from the CPU) but slower than
     * cuBLAS (35 against 25 ms of attention for 4,096 tokens of the Qwen2.5-0.5B shape), its
     * tiles converted from the float cache one value per thread. The kernel now copies tiles
     * from keys and values staged in F16 once a layer (stage_kv_f16); that version has run only
     * in the CPU emulator so far (runtime/src/test/gpu/RESULTS.md).
     */
    public void useFlashAttention(boolean on) {
        flash = on;
    }

    /** Batches of at least this many tokens take their attention as a whole on the tensor cores (flash kernel or cuBLAS). */
    static final int BATCHED_ATTENTION_FROM = 64;
    /** The most bytes of scores one pass of {@link #batchedAttention} holds; longer batches go in row chunks. */
    private static final long SCORE_BYTES = 1L << 30;


    /**
     * Attention of a long batch as matrix products: per key/value head, the scores of its query
     * heads against the context keys and the live keys (two TF32 batched products into one score
     * matrix per head), a softmax kernel that scales, applies APE and the causal mask, then the
     * value products (context, then live, accumulated). Rows are taken in chunks so the scores
     * stay under {@link #SCORE_BYTES}. (Chunks of 512 rows, which skip most of the causal
     * triangle's masked half, measured slower on an H200: more, smaller products.)
     */
    private void batchedAttention(int layer, int n, int base, float scale, int apeOn, float temperature, float lnScale) {
        int heads = c.heads(), kvHeads = c.kvHeads(), group = heads / kvHeads, hd = c.headDim();
        int qDim = c.qDim(), kvDim = c.kvDim(), ctx = s.contextLength;
        long ctxK = ctx > 0 ? s.contextKeys[layer] : 0, ctxV = ctx > 0 ? s.contextValues[layer] : 0;
        long liveK = s.keys[layer], liveV = s.values[layer];
        int maxKeys = ctx + base + n;
        int chunk = (int) Math.max(1, Math.min(n, SCORE_BYTES / (4L * heads * maxKeys)));
        long scores = s.scores.atLeast(4L * heads * chunk * maxKeys);
        for (int first = 0; first < n; first += chunk) {
            int rows = Math.min(chunk, n - first);
            int keys = ctx + base + first + rows;    // what the chunk's last row sees
            int live = base + first + rows;
            long perHead = (long) rows * keys;
            for (int g = 0; g < kvHeads; g++) {
                long q = s.q + 4L * ((long) first * qDim + (long) g * group * hd);
                long sc = scores + 4L * g * group * perHead;
                if (ctx > 0) {
                    s.cublas.batchedTf32(true, ctx, rows, hd, ctxK + 4L * g * hd, kvDim, 0, q, qDim, hd, sc, keys, perHead, group, false);
                }
                s.cublas.batchedTf32(true, live, rows, hd, liveK + 4L * g * hd, kvDim, 0, q, qDim, hd, sc + 4L * ctx, keys, perHead,
                        group, false);
            }
            device.launch("softmax_scores", heads * rows, 1, 256, s.stream, scores, rows, keys, ctx, base, first, scale,
                    s.windowFlags, apeOn, temperature, lnScale);
            for (int g = 0; g < kvHeads; g++) {
                long out = s.att + 4L * ((long) first * qDim + (long) g * group * hd);
                long sc = scores + 4L * g * group * perHead;
                if (ctx > 0) {
                    s.cublas.batchedTf32(false, hd, rows, ctx, ctxV + 4L * g * hd, kvDim, 0, sc, keys, perHead, out, qDim, hd, group, false);
                }
                s.cublas.batchedTf32(false, hd, rows, live, liveV + 4L * g * hd, kvDim, 0, sc + 4L * ctx, keys, perHead, out, qDim, hd,
                        group, ctx > 0);
            }
        }
    }

    // ---- the device mirror of the live cache and of the plan ---------------------------------

    /** Makes the device rows equal the host cache's: a new cache starts over, a truncated one is cut, host-only rows are uploaded. */
    private void mirror(KvCache live, int newRows) {
        if (s.host != live) {
            s.resetCache(live, c);
            s.hostValid = live.length();
        }
        if (live.length() < s.deviceLength) s.deviceLength = live.length();
        s.hostValid = Math.min(s.hostValid, live.length());
        s.ensureCacheCapacity(live.length() + newRows, c);
        if (live.length() > s.deviceLength) {
            copyRows(live, s.deviceLength, live.length(), true);
            s.deviceLength = live.length();
        }
    }

    /** Copies the device rows the host lacks to the host cache. */
    private void downloadRows(KvCache live) {
        if (s.host != live) return;
        int to = Math.min(s.deviceLength, live.length());
        if (s.hostValid < to) copyRows(live, s.hostValid, to, false);
        s.hostValid = Math.max(s.hostValid, to);
    }

    private void copyRows(KvCache live, int from, int to, boolean toDevice) {
        int kvDim = c.kvDim();
        long offset = 4L * from * kvDim, bytes = 4L * (to - from) * kvDim;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate(bytes);
            for (int l = 0; l < c.layers(); l++) {
                List<float[]> hosts = new ArrayList<>(List.of(live.keys(l), live.values(l)));
                List<Long> devices = new ArrayList<>(List.of(s.keys[l], s.values[l]));
                if (s.raw != null) {
                    hosts.add(live.rawKeys(l));
                    devices.add(s.raw[l]);
                }
                for (int i = 0; i < hosts.size(); i++) {
                    if (toDevice) {
                        MemorySegment.copy(hosts.get(i), from * kvDim, staging, JAVA_FLOAT, 0, (to - from) * kvDim);
                        device.driver.copyToDevice(devices.get(i) + offset, staging, bytes, s.stream);
                        device.driver.synchronize(s.stream);
                    } else {
                        device.driver.copyToHost(staging, devices.get(i) + offset, bytes, s.stream);
                        device.driver.synchronize(s.stream);
                        MemorySegment.copy(staging, JAVA_FLOAT, 0, hosts.get(i), from * kvDim, (to - from) * kvDim);
                    }
                }
            }
        }
    }

    private void usePlan(ContextPlan plan) {
        if (s.plan == plan) return;
        s.freeContext();
        int n = plan.contextTokens();
        s.plan = plan;
        s.contextLength = n;
        if (n == 0) return;
        s.contextKeys = new long[c.layers()];
        s.contextValues = new long[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            s.contextKeys[l] = s.alloc(4L * n * c.kvDim());
            s.upload(s.contextKeys[l], MemorySegment.ofArray(plan.contextKeys(l)));
            s.contextValues[l] = s.alloc(4L * n * c.kvDim());
            s.upload(s.contextValues[l], MemorySegment.ofArray(plan.contextValues(l)));
        }
        boolean[] window = plan.windowKeys();
        byte[] flags = new byte[n];
        for (int i = 0; i < n; i++) flags[i] = (byte) (window[i] ? 1 : 0);
        s.windowFlags = s.alloc(n);
        s.upload(s.windowFlags, MemorySegment.ofArray(flags));
        s.contextBytes = 8L * n * c.kvDim() * c.layers() + n;
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    /**
     * Everything this pass holds on the device, freed by {@link #run} from {@link #close} or the
     * cleaner; it must not refer to the pass itself.
     */
    private static final class State implements Runnable {
        final CudaDevice device;
        final MemorySegment stream;
        final Cublas cublas;
        private final List<Long> batchBuffers = new ArrayList<>();
        private long batchBytes, cacheBytes, logitBytes;
        long contextBytes;

        /** Bumped by every allocation: a captured step is valid only while it is unchanged. */
        long generation;
        MemorySegment graph;
        Object graphKey;
        final long workspace;
        static final long WORKSPACE_BYTES = 32L << 20;

        int batchCapacity;
        long step;
        MemorySegment stepHost, logitsHost;
        long tokens, cos, sin, base, x, xb, q, k, v, att, hb, hb2, half16, halfBf16;
        int logitRows;
        long logits;
        /**
         * Batched attention's score matrices; the flash kernel's staged keys and values; split
         * attention's states; quantized matrices dequantised for cuBLAS.
         */
        final Scratch scores = new Scratch(), staged = new Scratch(), partial = new Scratch(), halfWeights = new Scratch();

        KvCache host;
        int cacheCapacity, deviceLength, hostValid;
        long[] keys = new long[0], values = new long[0], raw;

        ContextPlan plan;
        int contextLength;
        long[] contextKeys, contextValues;
        long windowFlags;

        State(CudaDevice device) {
            this.device = device;
            this.stream = device.driver.createStream();
            this.workspace = device.driver.malloc(WORKSPACE_BYTES);
            this.cublas = new Cublas(stream, workspace, WORKSPACE_BYTES);
        }

        long bytes() {
            return batchBytes + cacheBytes + contextBytes + logitBytes + scores.bytes + staged.bytes + partial.bytes + halfWeights.bytes;
        }

        long alloc(long size) {
            generation++;
            return device.driver.malloc(size);
        }

        void dropGraph() {
            if (graph != null) device.driver.destroyGraph(graph);
            graph = null;
            graphKey = null;
        }

        /**
         * Copies host memory to the device, in stream order. From pageable memory the driver has
         * staged the bytes when the call returns, so the staging buffer may go at once.
         */
        void upload(long dst, MemorySegment heap) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment staging = a.allocate(heap.byteSize()).copyFrom(heap);
                device.driver.copyToDevice(dst, staging, heap.byteSize(), stream);
            }
        }

        void ensureBatch(int n, ModelConfig c) {
            if (n <= batchCapacity) return;
            for (long p : batchBuffers) device.driver.free(p);
            batchBuffers.clear();
            batchBytes = 0;
            batchCapacity = n;
            int half = c.rope().dims() / 2;
            long widest = (long) n * Math.max(Math.max(c.dim(), c.qDim()), c.ffnDim());
            // The step's inputs, one device block (and its page-locked twin) laid out as stepBytes says.
            if (stepHost != null) device.driver.hostFree(stepHost);
            step = batch(stepBytes(n, half));
            stepHost = device.driver.hostAlloc(stepBytes(n, half));
            x = batch(4L * n * c.dim());
            xb = batch(4L * n * c.dim());
            q = batch(4L * n * c.qDim());
            k = batch(4L * n * c.kvDim());
            v = batch(4L * n * c.kvDim());
            att = batch(4L * n * c.qDim());
            hb = batch(4L * n * c.ffnDim());
            hb2 = batch(4L * n * c.ffnDim());
            half16 = batch(2 * widest);
            halfBf16 = batch(2 * widest);
        }

        private long batch(long size) {
            long p = alloc(size);
            batchBuffers.add(p);
            batchBytes += size;
            return p;
        }

        /** A device buffer that only grows: asked for more than it holds, it is reallocated (its contents dropped). */
        final class Scratch {
            long pointer, bytes;

            long atLeast(long size) {
                if (size > bytes) {
                    free();
                    pointer = alloc(size);
                    bytes = size;
                }
                return pointer;
            }

            void free() {
                if (pointer != 0) device.driver.free(pointer);
                pointer = 0;
                bytes = 0;
            }
        }

        /** Token ids, the cache row, then cosines and sines of n tokens (4 bytes each). */
        long stepBytes(int n, int half) {
            return 4L * n + 4 + 8L * n * half;
        }

        /** Points tokens, base, cos and sin into the step block as {@link #stepBytes} lays them out for n tokens. */
        void layOutStep(int n, int half) {
            tokens = step;
            base = tokens + 4L * n;
            cos = base + 4;
            sin = cos + 4L * n * half;
        }

        /** Logits up to this size come back through page-locked memory (a decode step's always do). */
        static final long PINNED_LOGITS_BYTES = 64L << 20;

        void ensureLogits(int rows, int vocab) {
            if (rows <= logitRows) return;
            if (logits != 0) device.driver.free(logits);
            logits = alloc(4L * rows * vocab);
            logitRows = rows;
            logitBytes = 4L * rows * vocab;
            if (logitBytes <= PINNED_LOGITS_BYTES) {
                if (logitsHost != null) device.driver.hostFree(logitsHost);
                logitsHost = device.driver.hostAlloc(logitBytes);
            }
        }

        void resetCache(KvCache live, ModelConfig c) {
            freeCache();
            host = live;
            deviceLength = 0;
            keys = new long[c.layers()];
            values = new long[c.layers()];
            raw = live.keepsRawKeys() ? new long[c.layers()] : null;
        }

        /** Grows the device cache to at least {@code rows} rows, keeping the rows it has. */
        void ensureCacheCapacity(int rows, ModelConfig c) {
            if (rows <= cacheCapacity) return;
            int capacity = Math.max(rows, Math.max(256, cacheCapacity + cacheCapacity / 2));
            long size = 4L * capacity * c.kvDim(), keep = 4L * deviceLength * c.kvDim();
            for (long[] arrays : raw == null ? new long[][] {keys, values} : new long[][] {keys, values, raw}) {
                for (int l = 0; l < arrays.length; l++) {
                    long grown = alloc(size);
                    if (arrays[l] != 0) {
                        if (keep > 0) device.driver.copyOnDevice(grown, arrays[l], keep, stream);
                        device.driver.synchronize(stream);
                        device.driver.free(arrays[l]);
                    }
                    arrays[l] = grown;
                }
            }
            cacheCapacity = capacity;
            cacheBytes = size * c.layers() * (raw == null ? 2 : 3);
        }

        void freeCache() {
            for (long[] arrays : raw == null ? new long[][] {keys, values} : new long[][] {keys, values, raw}) {
                for (long p : arrays) if (p != 0) device.driver.free(p);
            }
            keys = new long[0];
            values = new long[0];
            raw = null;
            cacheCapacity = 0;
            cacheBytes = 0;
            host = null;
        }

        void freeContext() {
            if (contextKeys != null) {
                for (long p : contextKeys) device.driver.free(p);
                for (long p : contextValues) device.driver.free(p);
                device.driver.free(windowFlags);
            }
            contextKeys = contextValues = null;
            windowFlags = 0;
            contextLength = 0;
            contextBytes = 0;
            plan = null;
        }

        @Override
        public void run() {
            device.makeCurrent();
            device.driver.synchronize(stream);
            dropGraph();
            for (long p : batchBuffers) device.driver.free(p);
            batchBuffers.clear();
            if (logits != 0) device.driver.free(logits);
            if (logitsHost != null) device.driver.hostFree(logitsHost);
            if (stepHost != null) device.driver.hostFree(stepHost);
            for (Scratch scratch : List.of(scores, staged, partial, halfWeights)) scratch.free();
            freeCache();
            freeContext();
            cublas.close();
            device.driver.free(workspace);
            device.driver.destroyStream(stream);
        }
    }
}
