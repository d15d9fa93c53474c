package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.cuda.CudaDevice;
import dev.pcwmesh.runtime.generate.SpeedTest;
import dev.pcwmesh.runtime.kernel.Parallel;
import dev.pcwmesh.runtime.model.Backend;
import dev.pcwmesh.runtime.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code pcw bench}: the runtime's speed on one model, as llama.cpp's {@code llama-bench} measures
 * it ({@link SpeedTest} says how), on the CPU or a GPU ({@code --backend}). Without
 * {@code --model} it lists the subcommands, which measure the mesh and the strategies.
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

    @Option(names = "--warm-up", paramLabel = "S", description = "seconds each test runs, in whole runs and at least once, before it is timed, and on while the JIT still compiles (30 s at most; 0: one run) (default: ${DEFAULT-VALUE})")
    double warmUpSeconds = SpeedTest.DEFAULT_WARM_UP_SECONDS;

    @Mixin BackendOption backend;

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
        if (!(warmUpSeconds >= 0)) throw new ParameterException(spec.commandLine(), "--warm-up must be at least 0 seconds");
        if (prompts.stream().anyMatch(n -> n < 0) || generations.stream().anyMatch(n -> n < 0)) {
            throw new ParameterException(spec.commandLine(), "test sizes must be 0 or more (0 skips the test)");
        }
        List<Integer> threadCounts = threads != null ? threads : List.of(Runtime.getRuntime().availableProcessors());
        try (Model m = Model.load(model, backend.backend)) {
            SpeedTest test = new SpeedTest(m, repetitions, warmUpSeconds);
            test.header(out, model);
            if (m.backend() == Backend.CUDA) out.println("GPU: " + CudaDevice.get().describe() + System.lineSeparator());
            for (int t : threadCounts) {
                Parallel.setThreads(t);
                for (int n : prompts) if (n > 0) test.prompt(out, model, t, n);
                for (int n : generations) if (n > 0) test.generation(out, model, t, n);
            }
            if (bandwidth) {
                double bytesPerSecond = SpeedTest.readBandwidth();
                out.printf(Locale.ROOT, "%nmemory read bandwidth on %d thread(s): %.1f GB/s; a decode step reads the %.1f MiB of weights at least once,"
                        + " so decode is bound by %.1f tokens/s%n", Parallel.threads(), bytesPerSecond / 1e9, test.weightBytes() / 1048576.0,
                        bytesPerSecond / test.weightBytes());
            }
        }
        out.flush();
        return 0;
    }

}
