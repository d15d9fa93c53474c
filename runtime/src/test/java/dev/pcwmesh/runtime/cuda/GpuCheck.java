package dev.pcwmesh.runtime.cuda;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.generate.SpeedTest;
import dev.pcwmesh.runtime.model.Backend;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.RandomModel;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The speed half of the GPU check ({@code runtime/src/test/gpu/check.sh}): random-weight models
 * of the SmolLM2-135M and Qwen2.5-0.5B shapes in F16 and Q8_0, written by our GGUF writer on the
 * GPU machine, through {@link SpeedTest} on the CUDA backend (the rows {@code pcw bench} prints),
 * then the two ratios: prefill of a 4096-token window against the dense F16 matrix rate,
 * decode against memory bandwidth (bytes of device weights read per token).
 *
 * <p>{@code GpuCheck DIR DENSE_F16_TFLOPS BANDWIDTH_GBS [REPETITIONS]}.
 */
public final class GpuCheck {
    private GpuCheck() {}

    record Shape(String name, RandomModel.Spec spec) {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        double denseTflops = Double.parseDouble(args[1]);
        double bandwidthGbs = Double.parseDouble(args[2]);
        int repetitions = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        Files.createDirectories(dir);
        PrintWriter out = new PrintWriter(System.out, true);
        out.println("GPU: " + CudaDevice.get().describe());
        List<Shape> shapes = List.of(
                new Shape("smollm2-135m", RandomModel.Spec.defaults("llama").withLayers(30).withDim(576).withHeads(9, 3)
                        .withFfn(1536).withVocab(49152).withTied(true).withContextLength(8192)),
                new Shape("qwen2.5-0.5b", RandomModel.Spec.defaults("qwen2").withLayers(24).withDim(896).withHeads(14, 2)
                        .withFfn(4864).withVocab(151936).withTied(true).withContextLength(32768)));
        StringBuilder summary = new StringBuilder("\n| model | type | pp4096 t/s | prefill TFLOP/s | % of dense F16 | tg32 t/s | weight GB/s | % of bandwidth |\n"
                + "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Shape shape : shapes) {
            for (GgmlType type : List.of(GgmlType.F16, GgmlType.Q8_0)) {
                Path file = dir.resolve(shape.name() + "-" + type + ".gguf");
                long start = System.nanoTime();
                RandomModel.write(shape.spec().withType(type), file, note -> { });
                out.printf(Locale.ROOT, "%n%s written in %.1f s%n", file.getFileName(), (System.nanoTime() - start) / 1e9);
                try (Model m = Model.load(file, Backend.CUDA)) {
                    SpeedTest test = new SpeedTest(m, repetitions);
                    test.header(out, file);
                    test.prompt(out, file, 1, 512);
                    double pp = test.prompt(out, file, 1, 4096);
                    double tg = test.generation(out, file, 1, 32);
                    double flops = prefillFlops(m.config(), 4096);
                    double tflops = flops * pp / 4096 / 1e12;
                    long deviceBytes = CudaWeights.of(m).bytes;
                    profile(out, m, 4096, false);
                    profile(out, m, 4096, true);
                    profile(out, m, 1, false);
                    longContextDecode(out, m, 4096);
                    double gbs = deviceBytes * tg / 1e9;
                    summary.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.1f | %.1f %% | %.1f | %.0f | %.1f %% |%n", shape.name(), type,
                            pp, tflops, 100 * tflops / denseTflops, tg, gbs, 100 * gbs / bandwidthGbs));
                }
                Files.delete(file);
            }
        }
        out.println(summary);
        out.printf(Locale.ROOT, "(dense F16 rate taken as %.0f TFLOP/s, bandwidth as %.0f GB/s; weight bytes are the device copies: Q8_0 stays"
                + " in GGUF's blocks, 34 bytes a 32 values, which decode reads as they are)%n", denseTflops, bandwidthGbs);
    }

    /**
     * Where the time of one prefill of {@code n} tokens goes (n = 1: 32 decode steps), by step,
     * from CUDA events, with attention through the flash kernel or cuBLAS.
     */
    static void profile(PrintWriter out, Model m, int n, boolean flash) {
        ModelConfig c = m.config();
        try (CudaTransformer pass = new CudaTransformer(m)) {
            pass.useFlashAttention(flash);
            KvCache cache = new KvCache(c.layers(), c.kvDim(), Math.max(n, 33), false);
            int[] tokens = new java.util.SplittableRandom(1).ints(n, 0, c.vocabSize()).toArray();
            int steps = n == 1 ? 32 : 1;
            pass.forward(tokens, java.util.stream.IntStream.range(0, n).toArray(), ContextPlan.empty(m, 0).attention(), cache, n - 1, (r, l) -> { });
            cache.truncate(0);
            pass.profile(true);
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                int[] positions = java.util.stream.IntStream.range(i, i + n).toArray();
                pass.forward(tokens, positions, ContextPlan.empty(m, 0).attention(), cache, n - 1, (r, l) -> { });
            }
            double wall = (System.nanoTime() - start) / 1e6;
            java.util.Map<String, Double> profiled = new java.util.LinkedHashMap<>(pass.profileMillis());
            double gpu = profiled.values().stream().mapToDouble(Double::doubleValue).sum();
            if (n == 1) {
                pass.profile(false);   // decode steps run as a captured graph again
                for (String variant : List.of("decode kernels", "decode kernels, programmatic launches", "batches of one (cuBLAS)")) {
                    pass.useDecodeKernels(!variant.startsWith("batches"));
                    try {
                        pass.useProgrammaticLaunch(variant.contains("programmatic"));
                        double graphedMs = 0;
                        for (int round = 0; round < 2; round++) {   // the first round captures
                            cache.truncate(0);
                            long graphed = System.nanoTime();
                            for (int i = 0; i < steps; i++) {
                                pass.forward(tokens, new int[] {i}, ContextPlan.empty(m, 0).attention(), cache, 0, (r, l) -> { });
                            }
                            graphedMs = (System.nanoTime() - graphed) / 1e6;
                        }
                        out.printf(Locale.ROOT, "32 decode steps as a CUDA graph, %s: wall %.2f ms%n", variant, graphedMs);
                    } catch (CudaException e) {
                        out.println("32 decode steps as a CUDA graph, " + variant + ": not run: " + e.getMessage());
                    }
                    pass.useProgrammaticLaunch(false);
                }
            }
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "profile %s: wall %.2f ms, GPU events %.2f ms:",
                    n == 1 ? "32 decode steps" : "prefill " + n + (flash ? ", flash attention" : ", cuBLAS attention"), wall, gpu));
            profiled.forEach((step, ms) -> line.append(String.format(Locale.ROOT, " %s %.2f;", step, ms)));
            out.println(line);
        }
    }

    /**
     * 32 decode steps (as a CUDA graph) after a prompt of {@code context} tokens, attention split
     * across blocks and in one block per head (attention_rows).
     */
    static void longContextDecode(PrintWriter out, Model m, int context) {
        ModelConfig c = m.config();
        try (CudaTransformer pass = new CudaTransformer(m)) {
            KvCache cache = new KvCache(c.layers(), c.kvDim(), context + 33, false);
            int[] prompt = new java.util.SplittableRandom(3).ints(context, 0, c.vocabSize()).toArray();
            pass.forward(prompt, java.util.stream.IntStream.range(0, context).toArray(), ContextPlan.empty(m, 0).attention(), cache,
                    context - 1, (r, l) -> { });
            for (boolean split : new boolean[] {true, false}) {
                pass.splitAttentionFrom(split ? CudaTransformer.SPLIT_ATTENTION_FROM : Integer.MAX_VALUE);
                double ms = 0;
                for (int round = 0; round < 2; round++) {   // the first round captures
                    cache.truncate(context);
                    long start = System.nanoTime();
                    for (int i = 0; i < 32; i++) {
                        pass.forward(new int[] {i + 3}, new int[] {context + i}, ContextPlan.empty(m, 0).attention(), cache, 0, (r, l) -> { });
                    }
                    ms = (System.nanoTime() - start) / 1e6;
                }
                out.printf(Locale.ROOT, "32 decode steps after %d tokens, %s: %.2f ms (%.1f tokens/s)%n", context,
                        split ? "split attention" : "attention_rows", ms, 32 * 1000 / ms);
            }
        }
    }

    /**
     * Multiply-adds ×2 of a causal prefill of {@code n} tokens without the output layer (an
     * encoder needs no logits but the last row's): the layer products, plus QKᵀ and PV over the
     * causal triangle.
     */
    static double prefillFlops(ModelConfig c, int n) {
        double perToken = 2.0 * c.layers() * ((double) c.dim() * (c.qDim() + 2L * c.kvDim()) + (double) c.qDim() * c.dim()
                + 3.0 * c.dim() * c.ffnDim());
        double attention = 2.0 * 2.0 * c.layers() * c.heads() * c.headDim() * ((double) n * (n + 1) / 2);
        return perToken * n + attention;
    }
}
