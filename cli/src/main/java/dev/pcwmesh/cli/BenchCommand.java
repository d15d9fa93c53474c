package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.kernel.Parallel;
import dev.pcwmesh.runtime.kernel.Vectors;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.Transformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code pcw bench}: the runtime's speed on one model, as llama.cpp's {@code llama-bench} measures
 * it, so the two tables can stand side by side. {@code pp N} prefills N random tokens into an
 * empty cache (logits of the last one only); {@code tg N} generates N tokens one at a time after
 * BOS. Each test runs once to warm up (the JIT compiles the kernels), then R times; the table gives
 * tokens/s as the median, min and max of the R runs. Without {@code --model} it lists the
 * subcommands, which measure the mesh and the strategies.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchStrategiesCommand.class, BenchMeshCommand.class},
        description = {"Speed of one model like llama-bench: pcw bench -m F -p 128,512 -n 32 -t T -r R.",
                "Without --model: see the subcommands (mesh, strategies)."})
public final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model file")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, split = ",", paramLabel = "N", description = "prompt lengths to prefill (default: ${DEFAULT-VALUE})")
    List<Integer> prompts = new ArrayList<>(List.of(512));

    @Option(names = {"-n", "--n-gen"}, split = ",", paramLabel = "N", description = "tokens to generate (default: ${DEFAULT-VALUE})")
    List<Integer> generations = new ArrayList<>(List.of(128));

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "T", description = "worker threads, one row each (default: all cores)")
    List<Integer> threads;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "R", description = "measured runs of each test (default: ${DEFAULT-VALUE})")
    int repetitions = 5;

    @Option(names = "--bandwidth", description = "also measure memory read bandwidth and print the decode speed it allows")
    boolean bandwidth;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (model == null) {
            spec.commandLine().usage(out);
            return 0;
        }
        if (repetitions < 1) throw new ParameterException(spec.commandLine(), "--repetitions must be at least 1");
        if (prompts.stream().anyMatch(n -> n < 0) || generations.stream().anyMatch(n -> n < 0)) {
            throw new ParameterException(spec.commandLine(), "test sizes must be 0 or more (0 skips the test)");
        }
        List<Integer> threadCounts = threads != null ? threads : List.of(Runtime.getRuntime().availableProcessors());
        try (Model m = Model.load(model)) {
            ModelConfig c = m.config();
            long weightBytes = m.file().tensors().values().stream().mapToLong(GgufTensor::byteSize).sum();
            long params = m.file().tensors().values().stream().mapToLong(GgufTensor::elementCount).sum();
            out.printf(Locale.ROOT, "%s: %s, %d layers, d %d, %d heads, %d KV heads, FFN %d, vocab %d; Java %s, %s float vectors%n%n",
                    model.getFileName(), c.architecture().ggufName(), c.layers(), c.dim(), c.heads(), c.kvHeads(), c.ffnDim(), c.vocabSize(),
                    Runtime.version(), Vectors.width());
            out.println("| model | size | params | backend | threads | test | t/s (median) | min | max |");
            out.println("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: |");
            out.flush();
            for (int t : threadCounts) {
                Parallel.setThreads(t);
                for (int n : prompts) if (n > 0) row(out, m, weightBytes, params, t, "pp" + n, measure(() -> prefill(m, n)), n);
                for (int n : generations) if (n > 0) row(out, m, weightBytes, params, t, "tg" + n, measure(() -> generate(m, n)), n);
            }
            if (bandwidth) {
                double bytesPerSecond = readBandwidth();
                out.printf(Locale.ROOT, "%nmemory read bandwidth: %.1f GB/s; a decode step reads the %.1f MiB of weights at least once,"
                        + " so decode is bound by %.1f tokens/s%n", bytesPerSecond / 1e9, weightBytes / 1048576.0, bytesPerSecond / weightBytes);
            }
        }
        out.flush();
        return 0;
    }

    private void row(PrintWriter out, Model m, long weightBytes, long params, int threadCount, String test, double[] seconds, int tokens) {
        double[] rates = Arrays.stream(seconds).map(s -> tokens / s).sorted().toArray();
        double median = rates.length % 2 == 1 ? rates[rates.length / 2] : (rates[rates.length / 2 - 1] + rates[rates.length / 2]) / 2;
        out.printf(Locale.ROOT, "| %s | %.1f MiB | %.1f M | cpu | %d | %s | %.2f | %.2f | %.2f |%n", model.getFileName(),
                weightBytes / 1048576.0, params / 1e6, threadCount, test, median, rates[0], rates[rates.length - 1]);
        out.flush();
    }

    /** One warm-up run, then {@link #repetitions} timed ones; seconds each. */
    private double[] measure(Runnable test) {
        test.run();
        double[] seconds = new double[repetitions];
        for (int i = 0; i < repetitions; i++) {
            long start = System.nanoTime();
            test.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        return seconds;
    }

    /** {@code n} random tokens prefilled from position 0 into an empty cache, logits of the last only (as llama-bench's pp). */
    private static void prefill(Model m, int n) {
        ModelConfig c = m.config();
        SplittableRandom rng = new SplittableRandom(n);
        int[] tokens = new int[n];
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = rng.nextInt(c.vocabSize());
            positions[i] = i;
        }
        Attention attention = ContextPlan.empty(m, 0).attention();
        new Transformer(m).forward(tokens, positions, attention, new KvCache(c.layers(), c.kvDim(), n, false), n - 1, (row, l) -> { });
    }

    /** BOS, then {@code n} decode steps of one token each (as llama-bench's tg: the cost of generating, without sampling). */
    private static void generate(Model m, int n) {
        ModelConfig c = m.config();
        SplittableRandom rng = new SplittableRandom(n);
        Attention attention = ContextPlan.empty(m, 0).attention();
        Transformer transformer = new Transformer(m, 1);
        KvCache cache = new KvCache(c.layers(), c.kvDim(), n, false);
        int[] token = {Math.max(0, m.tokenizer().bos())};
        int[] position = {0};
        for (int i = 0; i < n; i++) {
            transformer.forward(token, position, attention, cache, 0, (row, l) -> { });
            token[0] = rng.nextInt(c.vocabSize());
            position[0]++;
        }
    }

    /** Bytes/s read by summing a 512 MiB array on every worker thread (best of three passes). */
    private static double readBandwidth() {
        float[] data = new float[128 << 20];
        Arrays.fill(data, 1f);
        double best = 0;
        float[] sink = new float[1];
        for (int pass = 0; pass < 3; pass++) {
            long start = System.nanoTime();
            Parallel.forRange(data.length / 4096, 1, (from, to) -> {
                float s = 0;
                for (int i = from; i < to; i++) s += Vectors.dot(data, i * 4096, data, i * 4096, 4096);
                synchronized (sink) { sink[0] += s; }
            });
            best = Math.max(best, (double) data.length * Float.BYTES / ((System.nanoTime() - start) / 1e9));
        }
        if (sink[0] == 0) throw new IllegalStateException("the bandwidth probe read nothing");
        return best;
    }
}
