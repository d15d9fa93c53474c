package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Document;
import dev.pcwmesh.runtime.context.LambdaWindow;
import dev.pcwmesh.runtime.context.LocalSegments;
import dev.pcwmesh.runtime.context.ParallelWindows;
import dev.pcwmesh.runtime.context.PlanCost;
import dev.pcwmesh.runtime.context.PlanRequest;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.ReRope;
import dev.pcwmesh.runtime.context.Sequential;
import dev.pcwmesh.runtime.context.Strategy;
import dev.pcwmesh.runtime.context.TokenSelection;
import dev.pcwmesh.runtime.context.WindowSelection;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.RopeScaling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "strategies", mixinStandardHelpOptions = true,
        description = "Time to first token and KV bytes of every context strategy on one document of random tokens, "
                + "and how encoding time grows with the number of windows for parallel against sequential.")
public final class BenchStrategiesCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = "--windows", defaultValue = "16", paramLabel = "N", description = "windows in the document (default: ${DEFAULT-VALUE})")
    int windows;

    @Option(names = "--window", defaultValue = "128", paramLabel = "N", description = "tokens per window (default: ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--question-tokens", defaultValue = "16", paramLabel = "N", description = "(default: ${DEFAULT-VALUE})")
    int questionTokens;

    @Option(names = "--answer-tokens", defaultValue = "8", paramLabel = "N", description = "(default: ${DEFAULT-VALUE})")
    int answerTokens;

    @Option(names = "--skip-growth", description = "only the per-strategy table")
    boolean skipGrowth;

    @Option(names = "--skip-strategies", description = "only the growth table")
    boolean skipStrategies;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    record Case(String name, Strategy strategy, PositionEncoding positions) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model model = modelOptions.load()) {
            Random random = new Random(seed);
            int vocab = model.config().vocabSize();
            List<int[]> parts = new ArrayList<>();
            for (int w = 0; w < windows; w++) parts.add(randomTokens(random, window, vocab));
            int[] prefix = QaCommand.prefix(model.tokenizer(), "");
            int[] question = randomTokens(random, questionTokens, vocab);
            Document doc = new Document(prefix, parts);
            int trained = model.config().contextLength();
            PositionEncoding file = PositionEncoding.of(model);
            float scale = Math.max(1, (float) (prefix.length + doc.tokens() + questionTokens + answerTokens) / trained);

            List<Case> cases = new java.util.ArrayList<>(List.of(
                    new Case("parallel", new ParallelWindows(), file),
                    new Case("select k=4", new WindowSelection(4, Set.of(), null), file),
                    new Case("tokens k=256 block=16", new TokenSelection(256, 16), file),
                    new Case("sequential (truncated)", new Sequential(), file),
                    new Case("sequential + yarn s=" + scale, new Sequential(),
                            new PositionEncoding(model.config().rope().withScaling(new RopeScaling.Yarn(scale, trained)), null)),
                    new Case("sequential + rerope w=" + trained / 2, new Sequential(), new PositionEncoding(model.config().rope(), ReRope.clipped(trained / 2))),
                    new Case("lambda sinks=4 chunk=64", new LambdaWindow(4, trained, 64), file)));

            out.printf("model %s, %d threads; document %d windows x %d tokens, question %d, answer %d tokens, trained window %d%n%n",
                    model.name(), dev.pcwmesh.runtime.kernel.Parallel.threads(), windows, window, questionTokens, answerTokens, trained);
            if (skipStrategies) cases.clear();
            else out.println("| strategy | tokens encoded | encode s | time to first token s | KV MiB | context tokens attended | q.k scores |");
            if (!skipStrategies) out.println("|---|---:|---:|---:|---:|---:|---:|");
            for (Case c : cases) {
                PlanRequest request = new PlanRequest(model, c.positions(), new LocalSegments(model), trained, answerTokens);
                long start = System.nanoTime();
                ContextPlan plan = c.strategy().plan(doc, question, request);
                long planned = System.nanoTime();
                GenerationResult r = new Generator(model, model.tokenizer()).generate(plan, question,
                        SamplingParams.greedy(answerTokens).withStopAtEndOfGeneration(false), (id, text) -> { });
                PlanCost cost = plan.cost();
                out.printf("| %s | %d | %.1f | %.1f | %.1f | %d | %,d |%n", c.name(), cost.tokensEncoded(), (planned - start) / 1e9,
                        (planned - start + r.prefillNanos()) / 1e9, cost.kvBytes() / 1048576.0, cost.tokensAttended(), cost.scoresComputed());
                out.flush();
            }
            if (!skipGrowth) growth(out, model, prefix, parts, question);
        }
        out.flush();
        return 0;
    }

    /** Encode time of the first 1, 2, 4, ... windows: parallel (linear) against one sequential stream (quadratic attention). */
    private void growth(PrintWriter out, Model model, int[] prefix, List<int[]> parts, int[] question) {
        out.printf("%n| windows | tokens | parallel encode s | sequential encode s | parallel q.k scores | sequential q.k scores |%n|---:|---:|---:|---:|---:|---:|%n");
        for (int n = 1; n <= parts.size(); n *= 2) {
            Document doc = new Document(prefix, parts.subList(0, n));
            double[] seconds = new double[2];
            long[] scores = new long[2];
            Strategy[] strategies = {new ParallelWindows(), new Sequential(Integer.MAX_VALUE)};
            for (int s = 0; s < 2; s++) {
                PlanRequest request = new PlanRequest(model, PositionEncoding.of(model), new LocalSegments(model),
                        model.config().contextLength(), answerTokens);
                long start = System.nanoTime();
                ContextPlan plan = strategies[s].plan(doc, question, request);
                seconds[s] = (System.nanoTime() - start) / 1e9;
                scores[s] = plan.cost().encodeScores();
            }
            out.printf("| %d | %d | %.2f | %.2f | %,d | %,d |%n", n, doc.tokens(), seconds[0], seconds[1], scores[0], scores[1]);
            out.flush();
        }
    }

    private static int[] randomTokens(Random random, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + random.nextInt(vocab - 3);
        return t;
    }
}
