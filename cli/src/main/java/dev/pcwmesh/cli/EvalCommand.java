package dev.pcwmesh.cli;

import dev.pcwmesh.eval.EvalConfig;
import dev.pcwmesh.eval.EvalReport;
import dev.pcwmesh.eval.EvalStrategy;
import dev.pcwmesh.eval.Evaluation;
import dev.pcwmesh.eval.Plots;
import dev.pcwmesh.eval.Progress;
import dev.pcwmesh.eval.ProgressBar;
import dev.pcwmesh.eval.ResultsTables;
import dev.pcwmesh.eval.tasks.Flavour;
import dev.pcwmesh.eval.tasks.TaskKind;
import dev.pcwmesh.runtime.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Measure strategies on long-document tasks: accuracy (exact match), time to first token and KV bytes "
                + "per strategy × length × depth; writes results.md, results.csv, samples.csv and PNG plots to --out.",
                "Lengths are multiples of the window (the trained window less room for prefix, question and answer)."})
public final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Mixin StrategyTuningOptions tuning;

    @Option(names = "--task", required = true, paramLabel = "NAME", description = "one of: passkey, needle, multi-key, multi-value, multi-query, variable-tracking")
    String task;

    @Option(names = "--flavour", defaultValue = "demo", paramLabel = "NAME", description = "demo (the demo model's own document language) or ruler (RULER-style instructions) (default: ${DEFAULT-VALUE})")
    String flavour;

    @Option(names = "--lengths", defaultValue = "1,2,4", split = ",", paramLabel = "N,N,...", hideParamSyntax = true, description = "document lengths in windows (default: ${DEFAULT-VALUE})")
    List<Integer> lengths;

    @Option(names = "--depths", defaultValue = "0,50,100", split = ",", paramLabel = "P,P,...", hideParamSyntax = true, description = "depths of the key fact, percent (default: ${DEFAULT-VALUE})")
    List<Integer> depths;

    @Option(names = "--strategies", defaultValue = "parallel,select,sequential,lambda,tokens,yarn", split = ",", paramLabel = "NAME,...", hideParamSyntax = true,
            description = "any of: " + EvalStrategy.NAMES + " (rescalings run sequential, stretched to each document) (default: ${DEFAULT-VALUE})")
    List<String> strategies;

    @Option(names = "--samples", defaultValue = "10", paramLabel = "N", description = "samples per length and depth (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "the run's seed: the same seed gives the same samples (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where results.md, results.csv, samples.csv and the plots go")
    Path out;

    @Option(names = "--window", paramLabel = "N", description = "tokens per window (default: the trained window less prefix, question and answer)")
    Integer window;

    @Option(names = "--trained-window", paramLabel = "N", description = "the longest sequence the model was trained on (default: the file's context_length)")
    Integer trainedWindow;

    @Option(names = "--answer-tokens", paramLabel = "N", description = "most answer tokens (default: the expected answers' length plus a margin, at least 16)")
    Integer answerTokens;

    @Option(names = "--no-progress", description = "no progress bar on standard error")
    boolean noProgress;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        EvalConfig config = new EvalConfig(TaskKind.byName(task), Flavour.byName(flavour), lengths, depths,
                strategies.stream().map(String::strip).map(EvalStrategy::byName).toList(), samples, seed,
                window, trainedWindow, answerTokens, tuning.strategies(), tuning.rope());
        EvalReport report;
        try (Model model = modelOptions.load()) {
            Evaluation evaluation = new Evaluation(model, config);
            stdout.printf("%s (%s) on %s: %d runs, windows of %d tokens, trained window %d%n", config.task(), config.flavour(),
                    model.file().path().getFileName(), config.runs(), evaluation.window(), evaluation.trainedWindow());
            stdout.flush();
            Progress progress = noProgress ? Progress.NONE : new ProgressBar(spec.commandLine().getErr());
            report = evaluation.run(progress);
        }
        ResultsTables.write(report, out, "pcw " + String.join(" ", spec.root().commandLine().getParseResult().originalArgs()));
        List<Path> plots = Plots.write(report, out);

        stdout.println();
        for (EvalStrategy s : config.strategies()) {
            stdout.printf(Locale.ROOT, "%-14s", s.name());
            for (int l : config.lengths()) stdout.printf(Locale.ROOT, " %dx=%.2f", l, report.accuracy(s.name(), l));
            stdout.println();
        }
        stdout.println("wrote " + out.resolve("results.md") + ", results.csv, samples.csv and " + plots.size() + " plots");
        stdout.flush();
        return 0;
    }
}
