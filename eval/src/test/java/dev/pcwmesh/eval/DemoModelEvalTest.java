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

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped demo model on its own task, with a fixed seed: at 8 times its trained window, showing
 * it the document through parallel windows or selected windows answers more needle questions than
 * truncating the document to what fits (the README's results table, 8× column, same samples).
 */
class DemoModelEvalTest {

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
