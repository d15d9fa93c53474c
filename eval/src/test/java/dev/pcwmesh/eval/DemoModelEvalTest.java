package dev.pcwmesh.eval;

import dev.pcwmesh.eval.tasks.Flavour;
import dev.pcwmesh.eval.tasks.TaskKind;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.model.Model;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped demo model on its own task, with fixed seeds: within one window it answers needle
 * questions (exact match); at 8 times its trained window, showing it the document through parallel
 * windows or selected windows answers more of them than truncating the document to what fits (the
 * README's results table, 8× column, same samples).
 */
class DemoModelEvalTest {

    /**
     * Issue 4 asks for 0.9 with 20 samples. This asks 20 samples at each of five depths (100
     * questions, seed 3), so one question moves the figure by 0.01 rather than 0.05. The shipped
     * model answers 94 of them (session 7's 82, session 6's 79). It guards the model and the eval
     * harness against regressions.
     */
    @Test
    void withinOneWindowMostNeedlesAreAnswered() {
        try (Model model = Model.load(TestModels.inRepository("models/pcw-demo.gguf"))) {
            EvalConfig config = new EvalConfig(TaskKind.NEEDLE, Flavour.DEMO, List.of(1), List.of(0, 25, 50, 75, 100),
                    List.of(EvalStrategy.byName("sequential")), 20, 3L, null, null, null, StrategySettings.defaults(), RopeSettings.defaults());
            EvalReport report = new Evaluation(model, config).run(new ProgressBar(new PrintWriter(new StringWriter())));
            assertEquals(100, report.results().size());
            double accuracy = report.accuracy("sequential", 1);
            assertTrue(accuracy >= 0.9, "one-window needle exact match " + accuracy + " over 100 questions");
        }
    }

    @Test
    void atEightWindowsParallelOrSelectBeatsTruncation() {
        try (Model model = Model.load(TestModels.inRepository("models/pcw-demo.gguf"))) {
            EvalConfig config = new EvalConfig(TaskKind.NEEDLE, Flavour.DEMO, List.of(8), List.of(0, 50, 100),
                    List.of(EvalStrategy.byName("parallel"), EvalStrategy.byName("select"), EvalStrategy.byName("sequential")),
                    4, 1L, null, null, null, StrategySettings.defaults(), RopeSettings.defaults());
            EvalReport report = new Evaluation(model, config).run(new ProgressBar(new PrintWriter(new StringWriter())));
            double parallel = report.accuracy("parallel", 8), select = report.accuracy("select", 8), sequential = report.accuracy("sequential", 8);
            assertTrue(Math.max(parallel, select) > sequential,
                    "parallel " + parallel + ", select " + select + ", sequential (truncated) " + sequential);
        }
    }
}
