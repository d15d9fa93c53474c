package dev.pcwmesh.runtime.cuda;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Encoder;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.ReRope;
import dev.pcwmesh.runtime.context.WindowAttention;
import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.kernel.TypeKernel;
import dev.pcwmesh.runtime.kernel.WeightMatrix;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.Backend;
import dev.pcwmesh.runtime.model.ForwardPass;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.RandomModel;
import dev.pcwmesh.runtime.model.Transformer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA forward pass against the CPU's, on a GPU; skipped, saying why, where there is none
 * (CI has none: {@code runtime/src/test/gpu/check.sh} runs these on a GPU machine). Every
 * comparison prints its relative error ‖gpu − cpu‖ / ‖cpu‖.
 */
class CudaTransformerTest {
    @TempDir static Path dir;

    @BeforeAll
    static void describe() {
        if (CudaDevice.available()) System.out.println("GPU: " + CudaDevice.get().describe());
    }

    @BeforeEach
    void gpu() {
        Assumptions.assumeTrue(CudaDevice.available(), () -> "no usable GPU: " + CudaDevice.unavailableReason());
    }

    private static Attention plain(Model m) {
        return ContextPlan.empty(m, 0).attention();
    }

    /** Logits of the last prompt row, then of each of {@code steps} decode steps fed fixed tokens. */
    private static List<float[]> run(ForwardPass pass, Model m, int[] prompt, int steps, Attention attention, int startPosition) {
        ModelConfig c = m.config();
        KvCache cache = new KvCache(c.layers(), c.kvDim(), prompt.length + steps, attention.needsRawQueries());
        List<float[]> out = new ArrayList<>();
        ForwardPass.LogitsSink keep = (row, l) -> out.add(l.clone());
        int[] positions = IntStream.range(startPosition, startPosition + prompt.length).toArray();
        pass.forward(prompt, positions, attention, cache, prompt.length - 1, keep);
        for (int i = 0; i < steps; i++) {
            pass.forward(new int[] {(7 * i + 3) % c.vocabSize()}, new int[] {startPosition + prompt.length + i}, attention, cache, 0, keep);
        }
        return out;
    }

    static double relativeError(float[] gpu, float[] cpu) {
        double num = 0, den = 0;
        for (int i = 0; i < cpu.length; i++) {
            double d = (double) gpu[i] - cpu[i];
            num += d * d;
            den += (double) cpu[i] * cpu[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }

    private static double worst(List<float[]> gpu, List<float[]> cpu) {
        assertEquals(cpu.size(), gpu.size(), "logit rows");
        double worst = 0;
        for (int i = 0; i < cpu.size(); i++) {
            for (float v : gpu.get(i)) assertTrue(Float.isFinite(v), "a GPU logit is not finite");
            worst = Math.max(worst, relativeError(gpu.get(i), cpu.get(i)));
        }
        return worst;
    }

    @Test
    void stories260KGreedyTokensEqualTheReference() {
        try (Model m = Model.load(TestModels.shared(Stories260K.FILE), Backend.CUDA);
             ForwardPass pass = ForwardPass.of(m)) {
            assertTrue(pass instanceof CudaTransformer);
            KvCache cache = new KvCache(m.config().layers(), m.config().kvDim(), 80, false);
            int[] next = new int[1];
            float[] first = new float[m.config().vocabSize()];
            ForwardPass.LogitsSink argmax = (row, l) -> {
                int best = 0;
                for (int i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
                next[0] = best;
            };
            int[] prompt = Stories260K.PROMPT;
            pass.forward(prompt, IntStream.range(0, prompt.length).toArray(), plain(m), cache, prompt.length - 1, (row, l) -> {
                System.arraycopy(l, 0, first, 0, l.length);
                argmax.accept(row, l);
            });
            for (int i = 0; i < 5; i++) assertEquals(Stories260K.TOP5_LOGITS[i], first[Stories260K.TOP5[i]], 1e-3, "logit of " + Stories260K.TOP5[i]);
            int[] out = new int[64];
            for (int i = 0; i < 64; i++) {
                out[i] = next[0];
                pass.forward(new int[] {out[i]}, new int[] {prompt.length + i}, plain(m), cache, 0, argmax);
            }
            assertArrayEquals(Stories260K.GREEDY_64, out, "CUDA greedy tokens of stories260K");
            System.out.println("stories260K: CUDA greedy 64 tokens equal the reference");
        }
    }

    static Stream<Arguments> randomModels() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : List.of("llama", "qwen2", "qwen3")) {
            for (GgmlType type : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K,
                    GgmlType.Q6_K, GgmlType.Q5_K)) {
                out.add(Arguments.of(arch, type));
            }
        }
        return out.stream();
    }

    /** Prefill of 40 tokens (the tiled attention kernel), then 3 decode steps (the row kernel), against the CPU. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("randomModels")
    void randomModelLogitsMatchTheCpu(String arch, GgmlType type) {
        Path file = dir.resolve(arch + "-" + type + ".gguf");
        RandomModel.write(RandomModel.Spec.defaults(arch).withDim(256).withHeads(4, 2).withFfn(512).withType(type)
                .withTied(arch.equals("qwen2")), file, note -> { });
        int[] prompt = new SplittableRandom(5).ints(40, 0, 512).toArray();
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA);
             ForwardPass onCpu = ForwardPass.of(cpu); ForwardPass onGpu = ForwardPass.of(gpu)) {
            double err = worst(run(onGpu, gpu, prompt, 3, plain(gpu), 0), run(onCpu, cpu, prompt, 3, plain(cpu), 0));
            System.out.printf(Locale.ROOT, "random %s %s: max relative error of logits %.3g%n", arch, type, err);
            assertTrue(err < tolerance(type), arch + " " + type + ": relative error " + err);
        }
    }

    /**
     * How far the GPU may be from the CPU on random models. The GPU multiplies F16 (or BF16)
     * activations with F16 weights (quantized types are dequantised exactly, as the next test
     * checks), so F16 sits near 1e-3. The CPU is the coarser one for quantized types: like ggml it
     * quantizes activations to 8 bits (Q8_0 per 32 values for Q8_0/Q4_0, Q8_K per 256 for the
     * K-quants), which puts about 3e-2 between the two on these 2-layer models.
     */
    private static double tolerance(GgmlType type) {
        return switch (type) {
            case F32 -> 1e-5;
            case F16 -> 2e-3;
            case BF16 -> 1e-2;
            case Q8_0, Q4_0 -> 4e-2;
            default -> 6e-2;
        };
    }

    /** Device dequantisation equals the host's, rounded to F16. */
    @ParameterizedTest
    @MethodSource("quantTypes")
    void deviceDequantisationEqualsTheHost(GgmlType type) {
        Path file = dir.resolve("dequant-" + type + ".gguf");
        RandomModel.write(RandomModel.Spec.defaults("llama").withDim(256).withFfn(512).withType(type), file, note -> { });
        try (Model m = Model.load(file, Backend.CUDA)) {
            WeightMatrix host = m.weights().layers()[0].wq();
            assertEquals(type, host.type());
            CudaWeights.Matrix device = CudaWeights.of(m).layers[0].wq();
            float[] got = CudaWeights.download(device);
            float[] want = new float[host.rows() * host.cols()];
            TypeKernel.of(type).dequantize(host.data(), 0, want, 0, want.length);
            double max = 0, scale = 0;
            for (int i = 0; i < want.length; i++) {
                max = Math.max(max, Math.abs(got[i] - Float.float16ToFloat(Float.floatToFloat16(want[i]))));
                scale = Math.max(scale, Math.abs(want[i]));
            }
            System.out.printf(Locale.ROOT, "dequant %s: max difference %.3g (largest value %.3g)%n", type, max, scale);
            assertTrue(max <= scale * 1e-3, type + ": device dequantisation differs by " + max);
        }
    }

    static Stream<GgmlType> quantTypes() {
        return Stream.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K);
    }

    /**
     * Windows encoded on the GPU after a prefix equal the CPU's segments, and answering under the
     * parallel plan with APE (window keys flagged, the temperature and the scale on the device)
     * gives the CPU's logits.
     */
    @Test
    void parallelWindowsWithApeMatchTheCpu() {
        Path file = TestModels.shared(Stories260K.FILE);
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA)) {
            SplittableRandom rng = new SplittableRandom(11);
            int[] prefix = {1, 403, 407};
            KvSegment cpuPrefix = new Encoder(cpu).encode(prefix, 0);
            KvSegment gpuPrefix = new Encoder(gpu).encode(prefix, 0);
            double segmentErr = segmentError(gpuPrefix, cpuPrefix);
            List<KvSegment> cpuWindows = new ArrayList<>(), gpuWindows = new ArrayList<>();
            Encoder cpuEncoder = new Encoder(cpu), gpuEncoder = new Encoder(gpu);
            for (int w = 0; w < 4; w++) {
                int[] window = rng.ints(48, 3, 512).toArray();
                cpuWindows.add(cpuEncoder.encode(window, prefix.length, cpuPrefix));
                gpuWindows.add(gpuEncoder.encode(window, prefix.length, gpuPrefix));
                segmentErr = Math.max(segmentErr, segmentError(gpuWindows.get(w), cpuWindows.get(w)));
            }
            System.out.printf(Locale.ROOT, "encoded windows: max relative error of keys and values %.3g%n", segmentErr);
            assertTrue(segmentErr < 1e-4, "segments differ by " + segmentErr);

            for (WindowAttention rule : List.of(WindowAttention.plain(), WindowAttention.ape(0.8f, 0.9f))) {
                ContextPlan cpuPlan = plan(cpu, cpuPrefix, cpuWindows, rule);
                ContextPlan gpuPlan = plan(gpu, cpuPrefix, cpuWindows, rule);
                int[] question = rng.ints(20, 3, 512).toArray();
                try (ForwardPass onCpu = ForwardPass.of(cpu); ForwardPass onGpu = ForwardPass.of(gpu)) {
                    double err = worst(run(onGpu, gpu, question, 4, gpuPlan.attention(), gpuPlan.nextPosition()),
                            run(onCpu, cpu, question, 4, cpuPlan.attention(), cpuPlan.nextPosition()));
                    System.out.printf(Locale.ROOT, "parallel windows, %s: max relative error of logits %.3g%n",
                            rule.ape() == null ? "plain" : "APE", err);
                    assertTrue(err < 1e-4, "parallel plan logits differ by " + err);
                }
            }
        }
    }

    /**
     * An 8-token question and decode steps over more than {@link CudaTransformer#SPLIT_ATTENTION_FROM}
     * keys (a prefix and twelve parallel windows) take split attention (attention_split,
     * attention_merge), plain and with APE, against the CPU.
     */
    @Test
    void longContextDecodeStepsSplitAttentionLikeTheCpu() {
        Path file = TestModels.shared(Stories260K.FILE);
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA)) {
            SplittableRandom rng = new SplittableRandom(13);
            int[] prefix = {1, 403, 407};
            Encoder encoder = new Encoder(cpu);
            KvSegment encodedPrefix = encoder.encode(prefix, 0);
            List<KvSegment> windows = new ArrayList<>();
            for (int w = 0; w < 12; w++) windows.add(encoder.encode(rng.ints(48, 3, 512).toArray(), prefix.length, encodedPrefix));
            for (WindowAttention rule : List.of(WindowAttention.plain(), WindowAttention.ape(0.8f, 0.9f))) {
                ContextPlan cpuPlan = plan(cpu, encodedPrefix, windows, rule), gpuPlan = plan(gpu, encodedPrefix, windows, rule);
                assertTrue(gpuPlan.contextTokens() >= CudaTransformer.SPLIT_ATTENTION_FROM, "the plan is too short to split");
                int[] question = rng.ints(8, 3, 512).toArray();
                try (ForwardPass onCpu = ForwardPass.of(cpu); ForwardPass onGpu = ForwardPass.of(gpu)) {
                    double err = worst(run(onGpu, gpu, question, 6, gpuPlan.attention(), gpuPlan.nextPosition()),
                            run(onCpu, cpu, question, 6, cpuPlan.attention(), cpuPlan.nextPosition()));
                    System.out.printf(Locale.ROOT, "split attention over %d context keys, %s: max relative error of logits %.3g%n",
                            gpuPlan.contextTokens(), rule.ape() == null ? "plain" : "APE", err);
                    assertTrue(err < 1e-4, "split attention logits differ by " + err);
                }
            }
        }
    }

    private static ContextPlan plan(Model m, KvSegment prefix, List<KvSegment> windows, WindowAttention rule) {
        ContextPlan.Builder b = ContextPlan.builder(m, PositionEncoding.of(m)).windowAttention(rule);
        b.place(prefix, 0, ContextPlan.Role.PREFIX);
        int next = 0;
        for (KvSegment w : windows) {
            b.place(w, w.startPosition(), ContextPlan.Role.WINDOW);
            next = Math.max(next, w.endPosition());
        }
        return b.nextPosition(next).build();
    }

    private static double segmentError(KvSegment gpu, KvSegment cpu) {
        assertArrayEquals(cpu.positions(), gpu.positions());
        double worst = 0;
        for (int l = 0; l < cpu.layers(); l++) {
            worst = Math.max(worst, relativeError(gpu.keys()[l], cpu.keys()[l]));
            worst = Math.max(worst, relativeError(gpu.values()[l], cpu.values()[l]));
        }
        return worst;
    }

    /**
     * Batches of 64 tokens and more take attention through cuBLAS (TF32 score and value products,
     * the softmax kernel with APE and the causal mask): a long prompt alone, and a long question
     * under a parallel plan with and without APE, against the CPU.
     */
    @Test
    void longBatchesThroughCublasAttentionMatchTheCpu() {
        Path file = TestModels.shared(Stories260K.FILE);
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA);
             ForwardPass onCpu = ForwardPass.of(cpu); ForwardPass onGpu = ForwardPass.of(gpu)) {
            SplittableRandom rng = new SplittableRandom(17);
            int[] prompt = rng.ints(150, 3, 512).toArray();
            double err = worst(run(onGpu, gpu, prompt, 2, plain(gpu), 0), run(onCpu, cpu, prompt, 2, plain(cpu), 0));
            System.out.printf(Locale.ROOT, "150-token prompt, cuBLAS attention: max relative error of logits %.3g%n", err);
            assertTrue(err < 1e-2, "long prompt logits differ by " + err);

            int[] prefix = {1, 403, 407};
            KvSegment prefixSegment = new Encoder(cpu).encode(prefix, 0);
            List<KvSegment> windows = new ArrayList<>();
            for (int w = 0; w < 3; w++) windows.add(new Encoder(cpu).encode(rng.ints(90, 3, 512).toArray(), prefix.length, prefixSegment));
            for (WindowAttention rule : List.of(WindowAttention.plain(), WindowAttention.ape(0.8f, 0.9f))) {
                ContextPlan cpuPlan = plan(cpu, prefixSegment, windows, rule), gpuPlan = plan(gpu, prefixSegment, windows, rule);
                int[] question = rng.ints(100, 3, 512).toArray();
                err = worst(run(onGpu, gpu, question, 2, gpuPlan.attention(), gpuPlan.nextPosition()),
                        run(onCpu, cpu, question, 2, cpuPlan.attention(), cpuPlan.nextPosition()));
                System.out.printf(Locale.ROOT, "100-token question under parallel windows (%s), cuBLAS attention: max relative error %.3g%n",
                        rule.ape() == null ? "plain" : "APE", err);
                assertTrue(err < 1e-2, "long question logits differ by " + err);
            }
        }
    }

    /** ReRoPE and top-k run on the CPU over the mirrored cache: the results are the CPU's. */
    @Test
    void plansTheGpuCannotRunFallBackToTheCpu() {
        Path file = TestModels.shared(Stories260K.FILE);
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA)) {
            int[] prompt = new SplittableRandom(3).ints(30, 3, 512).toArray();
            for (boolean rerope : new boolean[] {true, false}) {
                ContextPlan cpuPlan = rerope
                        ? ContextPlan.builder(cpu, new PositionEncoding(cpu.config().rope(), ReRope.clipped(8))).build()
                        : ContextPlan.builder(cpu, PositionEncoding.of(cpu)).windowAttention(WindowAttention.topK(4, 1)).build();
                ContextPlan gpuPlan = rerope
                        ? ContextPlan.builder(gpu, new PositionEncoding(gpu.config().rope(), ReRope.clipped(8))).build()
                        : ContextPlan.builder(gpu, PositionEncoding.of(gpu)).windowAttention(WindowAttention.topK(4, 1)).build();
                try (ForwardPass onCpu = new Transformer(cpu); ForwardPass onGpu = ForwardPass.of(gpu)) {
                    double err = worst(run(onGpu, gpu, prompt, 3, gpuPlan.attention(), 0), run(onCpu, cpu, prompt, 3, cpuPlan.attention(), 0));
                    System.out.printf(Locale.ROOT, "%s on the CUDA backend (CPU attention): relative error %.3g%n", rerope ? "ReRoPE" : "top-k", err);
                    assertTrue(err < 1e-4, "fallback differs by " + err);
                }
            }
        }
    }

    /**
     * The flash-attention kernel (heads of 64 on a random model; 150- and 300-token prompts, one
     * with a prefix placed before it) against the CPU and against the cuBLAS path.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("flashModels")
    void flashAttentionMatchesTheCpuAndCublas(String arch, int headDim) {
        Path file = dir.resolve("flash-" + arch + "-" + headDim + ".gguf");
        RandomModel.write(RandomModel.Spec.defaults(arch).withDim(256).withHeads(256 / headDim, arch.equals("llama") ? 256 / headDim : 1)
                .withFfn(512).withType(GgmlType.F32), file, note -> { });
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA);
             ForwardPass onCpu = ForwardPass.of(cpu); CudaTransformer flash = new CudaTransformer(gpu);
             CudaTransformer cublas = new CudaTransformer(gpu)) {
            flash.useFlashAttention(true);
            cublas.useFlashAttention(false);
            SplittableRandom rng = new SplittableRandom(29);
            KvSegment prefix = new Encoder(cpu).encode(rng.ints(70, 3, 512).toArray(), 0);
            for (int length : new int[] {150, 300}) {
                int[] prompt = rng.ints(length, 3, 512).toArray();
                ContextPlan plan = length == 150 ? ContextPlan.empty(cpu, 0)
                        : ContextPlan.builder(cpu, PositionEncoding.of(cpu)).place(prefix, 0, ContextPlan.Role.PREFIX).nextPosition(70).build();
                ContextPlan gpuPlan = length == 150 ? ContextPlan.empty(gpu, 0)
                        : ContextPlan.builder(gpu, PositionEncoding.of(gpu)).place(prefix, 0, ContextPlan.Role.PREFIX).nextPosition(70).build();
                List<float[]> onFlash = run(flash, gpu, prompt, 1, gpuPlan.attention(), gpuPlan.nextPosition());
                double vsCpu = worst(onFlash, run(onCpu, cpu, prompt, 1, plan.attention(), plan.nextPosition()));
                double vsCublas = worst(onFlash, run(cublas, gpu, prompt, 1, gpuPlan.attention(), gpuPlan.nextPosition()));
                System.out.printf(Locale.ROOT, "flash attention, %s, heads of %d, %d tokens%s: relative error %.3g against the CPU, %.3g against cuBLAS%n",
                        arch, headDim, length, length == 300 ? " after a 70-token prefix" : "", vsCpu, vsCublas);
                assertTrue(vsCpu < 5e-3, "flash attention differs from the CPU by " + vsCpu);
                assertTrue(vsCublas < 5e-3, "flash attention differs from cuBLAS by " + vsCublas);
            }
        }
    }

    static Stream<Arguments> flashModels() {
        return Stream.of(Arguments.of("llama", 64), Arguments.of("qwen2", 64), Arguments.of("llama", 128));
    }

    /** Decode steps replayed from a captured CUDA graph give what launching every kernel gives. */
    @Test
    void graphedDecodeStepsEqualLaunchedOnes() {
        try (Model m = Model.load(TestModels.shared(Stories260K.FILE), Backend.CUDA);
             CudaTransformer graphed = new CudaTransformer(m); CudaTransformer launched = new CudaTransformer(m)) {
            launched.useGraphs(false);
            int[] prompt = new SplittableRandom(23).ints(20, 3, 512).toArray();
            double err = worst(run(graphed, m, prompt, 12, plain(m), 0), run(launched, m, prompt, 12, plain(m), 0));
            System.out.printf(Locale.ROOT, "12 decode steps from a CUDA graph against launched kernels: relative error %.3g%n", err);
            assertTrue(err < 1e-6, "graphed steps differ by " + err);
        }
    }

    static Stream<Arguments> decodeModels() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : List.of("llama", "qwen2", "qwen3")) {
            for (GgmlType type : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K,
                    GgmlType.Q6_K)) {
                out.add(Arguments.of(arch, type));
            }
        }
        return out.stream();
    }

    /**
     * Decode steps on the decode kernels (matvec, matvec_gated, rope_store) against the same
     * steps run as batches of one (cuBLAS and the per-step kernels) and against the CPU; the
     * quantized types are read as GGUF's blocks by the decode kernels and dequantised for cuBLAS.
     * Llama's 100-wide feed-forward (in the unquantized types, whose rows need no whole blocks)
     * takes the kernels' one-column-at-a-time path for the down product.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("decodeModels")
    void decodeKernelsMatchBatchesOfOneAndTheCpu(String arch, GgmlType type) {
        Path file = dir.resolve("decode-" + arch + "-" + type + ".gguf");
        RandomModel.write(RandomModel.Spec.defaults(arch).withDim(256).withHeads(4, 2).withFfn(arch.equals("llama") && type.blockSize() == 1 ? 100 : 512)
                .withType(type).withTied(arch.equals("qwen2")), file, note -> { });
        int[] prompt = new SplittableRandom(29).ints(10, 0, 512).toArray();
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA);
             ForwardPass onCpu = ForwardPass.of(cpu); CudaTransformer kernels = new CudaTransformer(gpu);
             CudaTransformer batches = new CudaTransformer(gpu)) {
            batches.useDecodeKernels(false);
            List<float[]> viaKernels = run(kernels, gpu, prompt, 8, plain(gpu), 0), viaBatches = run(batches, gpu, prompt, 8, plain(gpu), 0);
            double againstBatches = worst(viaKernels, viaBatches), againstCpu = worst(viaKernels, run(onCpu, cpu, prompt, 8, plain(cpu), 0));
            System.out.printf(Locale.ROOT, "decode kernels %s %s: relative error against batches of one %.3g, against the CPU %.3g%n",
                    arch, type, againstBatches, againstCpu);
            assertTrue(againstBatches < tolerance(type), "decode kernels differ from batches of one by " + againstBatches);
            assertTrue(againstCpu < tolerance(type), "decode kernels differ from the CPU by " + againstCpu);
        }
    }

    /**
     * A feed-forward of 14,336 (Llama 3 8B's) gives the down product a vector of 56 KiB, past the
     * 48 KiB of shared memory a kernel gets without opting in: the decode kernels still run it.
     */
    @Test
    void decodeKernelsTakeVectorsPastTheDefaultSharedMemory() {
        Path file = dir.resolve("wide-ffn.gguf");
        RandomModel.write(RandomModel.Spec.defaults("llama").withDim(256).withHeads(4, 2).withFfn(14336).withType(GgmlType.F16), file,
                note -> { });
        int[] prompt = new SplittableRandom(31).ints(6, 0, 512).toArray();
        try (Model gpu = Model.load(file, Backend.CUDA); CudaTransformer kernels = new CudaTransformer(gpu);
             CudaTransformer batches = new CudaTransformer(gpu)) {
            assertTrue(CudaDevice.get().matVecMaxColumns() >= 14336, "this GPU lets a block hold "
                    + CudaDevice.get().matVecMaxColumns() + " floats; the test needs 14,336");
            batches.useDecodeKernels(false);
            double err = worst(run(kernels, gpu, prompt, 4, plain(gpu), 0), run(batches, gpu, prompt, 4, plain(gpu), 0));
            System.out.printf(Locale.ROOT, "decode kernels with a 14,336-wide feed-forward: relative error against batches of one %.3g%n", err);
            assertTrue(err < tolerance(GgmlType.F16), "decode kernels differ from batches of one by " + err);
        }
    }

    /**
     * Decode steps whose graph launches its kernels as programmatic dependents (each waiting in
     * await_previous_kernel for the one before) give what ordinary launches give, on the
     * Qwen2-shaped decode kernels and on stories260K. Compute capability 9.0 and later.
     */
    @Test
    void programmaticDependentLaunchesGiveOrdinaryLaunchesResults() {
        Assumptions.assumeTrue(CudaDevice.get().hasProgrammaticLaunch(), "programmatic dependent launch needs compute capability 9.0");
        Path qwen = dir.resolve("programmatic-qwen2.gguf");
        RandomModel.write(RandomModel.Spec.defaults("qwen2").withDim(256).withHeads(4, 2).withFfn(512).withType(GgmlType.F16), qwen,
                note -> { });
        for (Path file : List.of(qwen, TestModels.shared(Stories260K.FILE))) {
            try (Model m = Model.load(file, Backend.CUDA); CudaTransformer programmatic = new CudaTransformer(m);
                 CudaTransformer ordinary = new CudaTransformer(m)) {
                programmatic.useProgrammaticLaunch(true);
                int[] prompt = new SplittableRandom(37).ints(12, 3, 256).toArray();
                double err = worst(run(programmatic, m, prompt, 12, plain(m), 0), run(ordinary, m, prompt, 12, plain(m), 0));
                System.out.printf(Locale.ROOT, "%s: 12 decode steps launched as programmatic dependents against ordinary launches: "
                        + "relative error %.3g%n", file.getFileName(), err);
                assertTrue(err < 1e-6, "programmatic launches differ by " + err);
            }
        }
    }

    /**
     * A model whose F16 copies would not fit dequantises each quantized matrix into scratch before
     * each cuBLAS product: a prompt, and decode steps run as batches of one (captured as graphs),
     * against the CPU, in Q8_0 and Q4_K.
     */
    @ParameterizedTest
    @MethodSource("scratchTypes")
    void quantizedBatchesWithoutF16CopiesMatchTheCpu(GgmlType type) {
        Path file = dir.resolve("scratch-" + type + ".gguf");
        RandomModel.write(RandomModel.Spec.defaults("qwen2").withDim(256).withHeads(4, 2).withFfn(512).withType(type).withTied(true),
                file, note -> { });
        int[] prompt = new SplittableRandom(41).ints(30, 0, 512).toArray();
        try (Model cpu = Model.load(file, Backend.CPU); Model gpu = Model.load(file, Backend.CUDA);
             ForwardPass onCpu = ForwardPass.of(cpu); CudaTransformer onGpu = new CudaTransformer(gpu)) {
            CudaWeights.of(gpu).forbidHalfCopies();
            onGpu.useDecodeKernels(false);
            double err = worst(run(onGpu, gpu, prompt, 4, plain(gpu), 0), run(onCpu, cpu, prompt, 4, plain(cpu), 0));
            assertEquals(0, CudaWeights.of(gpu).halfCopyBytes(), "F16 copies were made");
            System.out.printf(Locale.ROOT, "%s dequantised into scratch per product: relative error against the CPU %.3g%n", type, err);
            assertTrue(err < tolerance(type), type + ": relative error " + err);
        }
    }

    static Stream<GgmlType> scratchTypes() {
        return Stream.of(GgmlType.Q8_0, GgmlType.Q4_K);
    }

    /** A prompt longer than the batch runs in several device batches with the same result. */
    @Test
    void batchesSplitLikeOneBatch() {
        try (Model m = Model.load(TestModels.shared(Stories260K.FILE), Backend.CUDA);
             ForwardPass whole = new CudaTransformer(m); ForwardPass split = new CudaTransformer(m, 16)) {
            int[] prompt = new SplittableRandom(9).ints(70, 3, 512).toArray();
            double err = worst(run(split, m, prompt, 2, plain(m), 0), run(whole, m, prompt, 2, plain(m), 0));
            System.out.printf(Locale.ROOT, "batches of 16 against one batch: relative error %.3g%n", err);
            assertTrue(err < 1e-5, "split batches differ by " + err);
        }
    }
}
