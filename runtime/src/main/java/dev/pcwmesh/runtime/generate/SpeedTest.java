package dev.pcwmesh.runtime.generate;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.kernel.Parallel;
import dev.pcwmesh.runtime.kernel.Vectors;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.Backend;
import dev.pcwmesh.runtime.model.ForwardPass;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A model's speed as llama.cpp's {@code llama-bench} measures it, so the two tables can stand
 * side by side: {@code pp N} prefills N random tokens into an empty cache (logits of the last one
 * only); {@code tg N} generates N tokens one at a time after BOS. Each test first runs for at
 * least the warm-up time ({@link #DEFAULT_WARM_UP_SECONDS}; whole runs, at least one), and on
 * while the JIT still compiles ({@link #measure}): the JIT compiles the kernels, the GPU
 * compiles and caches; on two cores C2's compile of the largest prefill kernel alone took longer
 * than one pp128, which then left two of three timed runs at a fifth of the speed. Then it runs R
 * times; a row gives tokens/s as the median, min and max of the R runs. {@code pcw bench -m F} prints these rows; {@link #main}
 * prints them where only the runtime jar is at hand (the GPU check).
 */
public final class SpeedTest {
    private final Model model;
    private final int repetitions;
    private final long warmUpNanos;
    private final long weightBytes;
    private final long parameters;

    public SpeedTest(Model model, int repetitions) {
        this(model, repetitions, DEFAULT_WARM_UP_SECONDS);
    }

    public SpeedTest(Model model, int repetitions, double warmUpSeconds) {
        if (repetitions < 1) throw new IllegalArgumentException("repetitions must be at least 1");
        if (!(warmUpSeconds >= 0)) throw new IllegalArgumentException("the warm-up time must be at least 0 seconds");
        this.model = model;
        this.repetitions = repetitions;
        this.warmUpNanos = (long) (warmUpSeconds * 1e9);
        this.weightBytes = model.file().tensors().values().stream().mapToLong(GgufTensor::byteSize).sum();
        this.parameters = model.file().tensors().values().stream().mapToLong(GgufTensor::elementCount).sum();
    }

    public long weightBytes() { return weightBytes; }

    /** The lines above the table: the model's shape, Java, the vector width. */
    public void header(PrintWriter out, Path file) {
        ModelConfig c = model.config();
        out.printf(Locale.ROOT, "%s: %s, %d layers, d %d, %d heads, %d KV heads, FFN %d, vocab %d; Java %s, %s float vectors%n%n",
                file.getFileName(), c.architecture().ggufName(), c.layers(), c.dim(), c.heads(), c.kvHeads(), c.ffnDim(), c.vocabSize(),
                Runtime.version(), Vectors.width());
        out.println("| model | size | params | backend | threads | test | t/s (median) | min | max |");
        out.println("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: |");
        out.flush();
    }

    /** Runs {@code pp n}, prints its row and returns its median tokens/s. */
    public double prompt(PrintWriter out, Path file, int threads, int n) {
        try (ForwardPass pass = ForwardPass.of(model)) {
            KvCache cache = new KvCache(model.config().layers(), model.config().kvDim(), n, false);
            return row(out, file, threads, "pp" + n, measure(() -> prefill(pass, cache, n)), n);
        }
    }

    /** Runs {@code tg n}, prints its row and returns its median tokens/s. */
    public double generation(PrintWriter out, Path file, int threads, int n) {
        try (ForwardPass pass = ForwardPass.of(model)) {
            KvCache cache = new KvCache(model.config().layers(), model.config().kvDim(), n, false);
            return row(out, file, threads, "tg" + n, measure(() -> generate(pass, cache, n)), n);
        }
    }

    private double row(PrintWriter out, Path file, int threads, String test, double[] seconds, int tokens) {
        double[] rates = Arrays.stream(seconds).map(s -> tokens / s).sorted().toArray();
        double median = rates.length % 2 == 1 ? rates[rates.length / 2] : (rates[rates.length / 2 - 1] + rates[rates.length / 2]) / 2;
        out.printf(Locale.ROOT, "| %s | %.1f MiB | %.1f M | %s | %d | %s | %.2f | %.2f | %.2f |%n", file.getFileName(),
                weightBytes / 1048576.0, parameters / 1e6, model.backend().label(), threads, test, median, rates[0], rates[rates.length - 1]);
        out.flush();
        return median;
    }

    /** How long each test runs, by default, before it is timed. */
    public static final double DEFAULT_WARM_UP_SECONDS = 2;

    /** The longest warm-up that waits for the JIT ({@link #measure}). */
    static final long MAX_WARM_UP_NANOS = 30_000_000_000L;

    /**
     * Warm-up runs, then {@link #repetitions} timed ones; seconds each. The warm-up is whole runs
     * for the warm-up time (at least one), and more while the JIT still compiled during the last
     * run (its compilers' time above 1 % of that run's), up to {@link #MAX_WARM_UP_NANOS} in all:
     * on two cores the compile queue lags, and in pp512 of Qwen2.5 Q4_0 the decode kernel that
     * gives the last token's logits was compiled four seconds after the first run, so the timed
     * runs after two seconds of warm-up spent a tenth of their time in the interpreter.
     */
    private double[] measure(Runnable test) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean watchJit = warmUpNanos > 0 && jit != null && jit.isCompilationTimeMonitoringSupported();
        long warmUpStart = System.nanoTime();
        while (true) {
            long runStart = System.nanoTime(), compiledBefore = watchJit ? jit.getTotalCompilationTime() : 0;
            test.run();
            long now = System.nanoTime();
            if (now - warmUpStart >= MAX_WARM_UP_NANOS) break;
            if (now - warmUpStart < warmUpNanos) continue;
            long compilingNanos = watchJit ? (jit.getTotalCompilationTime() - compiledBefore) * 1_000_000 : 0;
            if (compilingNanos * 100 <= now - runStart) break;
        }
        double[] seconds = new double[repetitions];
        for (int i = 0; i < repetitions; i++) {
            long start = System.nanoTime();
            test.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        return seconds;
    }

    /** {@code n} random tokens prefilled from position 0 into an emptied cache, logits of the last only. */
    private void prefill(ForwardPass pass, KvCache cache, int n) {
        ModelConfig c = model.config();
        SplittableRandom rng = new SplittableRandom(n);
        int[] tokens = new int[n];
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = rng.nextInt(c.vocabSize());
            positions[i] = i;
        }
        cache.truncate(0);
        Attention attention = ContextPlan.empty(model, 0).attention();
        pass.forward(tokens, positions, attention, cache, n - 1, (row, l) -> { });
    }

    /** BOS, then {@code n} decode steps of one token each (the cost of generating, without sampling). */
    private void generate(ForwardPass pass, KvCache cache, int n) {
        ModelConfig c = model.config();
        SplittableRandom rng = new SplittableRandom(n);
        Attention attention = ContextPlan.empty(model, 0).attention();
        cache.truncate(0);
        int[] token = {Math.max(0, model.tokenizer().bos())};
        int[] position = {0};
        for (int i = 0; i < n; i++) {
            pass.forward(token, position, attention, cache, 0, (row, l) -> { });
            token[0] = rng.nextInt(c.vocabSize());
            position[0]++;
        }
    }

    /**
     * Bytes/s read by summing a 512 MiB array on every worker thread, each its share of the
     * array as one stream, four independent vector sums (a pass to compile, then the best of five).
     * The earlier probe, one {@code Vectors.dot} per 16 KiB and the best of three passes from the
     * first, gave 11-30 GB/s on two threads here, below what decode itself read (SmolLM2 F16 at
     * 150 tokens/s, 40 GB/s); this one gives 19-22 GB/s on one thread and 39-41 on two.
     */
    public static double readBandwidth() {
        float[] data = new float[128 << 20];
        Arrays.fill(data, 1f);
        int chunk = 4096;
        double best = 0;
        float[] sink = new float[1];
        for (int pass = 0; pass < 6; pass++) {
            long start = System.nanoTime();
            Parallel.forRange(data.length / chunk, 1, (from, to) -> {
                float s = sum(data, from * chunk, to * chunk);
                synchronized (sink) { sink[0] += s; }
            });
            if (pass > 0) best = Math.max(best, (double) data.length * Float.BYTES / ((System.nanoTime() - start) / 1e9));
        }
        if (sink[0] == 0) throw new IllegalStateException("the bandwidth probe read nothing");
        return best;
    }

    /** The sum of {@code a[from, to)} ({@code to - from} a multiple of four vectors), in four independent vector sums. */
    private static float sum(float[] a, int from, int to) {
        VectorSpecies<Float> f = FloatVector.SPECIES_PREFERRED;
        int n = f.length();
        FloatVector s0 = FloatVector.zero(f), s1 = s0, s2 = s0, s3 = s0;
        for (int i = from; i < to; i += 4 * n) {
            s0 = s0.add(FloatVector.fromArray(f, a, i));
            s1 = s1.add(FloatVector.fromArray(f, a, i + n));
            s2 = s2.add(FloatVector.fromArray(f, a, i + 2 * n));
            s3 = s3.add(FloatVector.fromArray(f, a, i + 3 * n));
        }
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@code SpeedTest FILE BACKEND PROMPTS GENERATIONS REPETITIONS}, e.g. {@code m.gguf cuda 512,4096 32 5}:
     * the rows of {@code pcw bench} where only the runtime jar is at hand.
     */
    public static void main(String[] args) {
        if (args.length != 5) {
            System.err.println("usage: SpeedTest FILE cpu|cuda|auto PROMPTS GENERATIONS REPETITIONS (lists comma-separated)");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        PrintWriter out = new PrintWriter(System.out, true);
        try (Model m = Model.load(file, Backend.parse(args[1]))) {
            SpeedTest test = new SpeedTest(m, Integer.parseInt(args[4]));
            test.header(out, file);
            int threads = Parallel.threads();
            for (int n : sizes(args[2])) test.prompt(out, file, threads, n);
            for (int n : sizes(args[3])) test.generation(out, file, threads, n);
        }
    }

    private static List<Integer> sizes(String list) {
        List<Integer> out = new ArrayList<>();
        for (String s : list.split(",")) if (!s.isBlank() && Integer.parseInt(s.trim()) > 0) out.add(Integer.parseInt(s.trim()));
        return out;
    }
}
