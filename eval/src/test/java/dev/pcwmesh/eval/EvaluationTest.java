package dev.pcwmesh.eval;

import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.eval.tasks.Flavour;
import dev.pcwmesh.eval.tasks.TaskKind;
import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness end to end on stories260K (a real Llama that knows nothing of these tasks, so
 * accuracy is whatever it is; what is checked is that every figure is measured and written), with
 * a trained window of 128 so that two windows already overflow it.
 */
class EvaluationTest {
    static Model model;
    @TempDir Path dir;

    @BeforeAll
    static void load() {
        model = Model.load(TestModels.shared(Stories260K.FILE));
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    static EvalConfig config(List<String> strategies) {
        return new EvalConfig(TaskKind.NEEDLE, Flavour.DEMO, List.of(1, 2), List.of(0, 100),
                strategies.stream().map(EvalStrategy::byName).toList(), 2, 5L, null, 128, null,
                StrategySettings.defaults(), RopeSettings.defaults());
    }

    @Test
    void measuresEveryCellAndWritesTheReport() throws IOException {
        EvalConfig config = config(List.of("parallel", "sequential"));
        Evaluation evaluation = new Evaluation(model, config);
        assertTrue(evaluation.window() > 8 && evaluation.window() < 128, "window " + evaluation.window());
        StringWriter bar = new StringWriter();
        EvalReport report = evaluation.run(new ProgressBar(new PrintWriter(bar)));

        assertEquals(config.runs(), report.results().size());
        assertEquals(16, report.results().size());
        assertTrue(bar.toString().contains("16/16"), bar.toString());
        for (SampleResult r : report.results()) {
            assertTrue(r.ttftNanos() > 0 && r.kvBytes() > 0 && r.tokensEncoded() > 0, r.toString());
            assertTrue(r.documentTokens() <= r.length() * evaluation.window(), r.toString());
            if (r.length() == 1) assertEquals(1, r.windows(), "a document of one window is one window: " + r);
            else assertTrue(r.windows() >= 2, r.toString());
        }
        for (CellResult cell : report.cells()) {
            assertTrue(cell.accuracy() >= 0 && cell.accuracy() <= 1, cell.toString());
            assertTrue(cell.ttftMillis() > 0 && cell.kvBytes() > 0 && cell.tokensEncoded() > 0, cell.toString());
        }
        assertTrue(report.results().stream().anyMatch(r -> r.strategy().equals("sequential") && r.length() == 2 && !r.note().isEmpty()),
                "sequential truncates two windows to the trained window, and says so");
        long parallelKv2 = (long) report.cell("parallel", 2, 0).kvBytes(), parallelKv1 = (long) report.cell("parallel", 1, 0).kvBytes();
        assertTrue(parallelKv2 > parallelKv1, "two windows hold more keys and values than one");

        ResultsTables.write(report, dir, "pcw eval ...");
        List<Path> plots = Plots.write(report, dir);
        String md = Files.readString(dir.resolve("results.md"));
        assertTrue(md.contains("| parallel |") && md.contains("| sequential |") && md.contains("| 1× | 2× |"), md);
        List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(1 + 2 * 2 * 2, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(0).startsWith("task,flavour,strategy,length,depth,samples,accuracy,ttft_ms,kv_bytes"));
        assertEquals(1 + 16, Files.readAllLines(dir.resolve("samples.csv")).size());
        assertEquals(List.of(dir.resolve("accuracy-by-length.png"), dir.resolve("heatmap-parallel.png"), dir.resolve("heatmap-sequential.png")), plots);
        for (Path png : plots) {
            byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
            assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, head, png + " is a PNG");
            assertTrue(Files.size(png) > 2000, png + " has a picture in it");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dev.pcwmesh.eval.tasks.SampleGeneratorTest#everyTaskAndFlavour")
    void everyTaskRunsThroughTheHarness(TaskKind task, Flavour flavour) {
        // RULER's instructions and multi-value facts are long in stories260K's 512-token vocabulary: its whole 512 leaves room.
        EvalConfig config = new EvalConfig(task, flavour, List.of(1, 2), List.of(50), List.of(EvalStrategy.byName("parallel")), 1, 9L,
                null, 512, null, StrategySettings.defaults(), RopeSettings.defaults());
        Evaluation evaluation = new Evaluation(model, config);
        EvalReport report = evaluation.run(Progress.NONE);
        assertEquals(2, report.results().size());
        for (SampleResult r : report.results()) {
            assertTrue(r.documentTokens() <= r.length() * evaluation.window(), r.toString());
            assertTrue(r.documentTokens() > (r.length() * evaluation.window()) * 3 / 4, "close to the target: " + r);
            assertFalse(r.expected().isEmpty());
        }
    }

    @Test
    void rescaledSequentialSeesTheWholeDocument() {
        EvalConfig config = config(List.of("yarn", "rerope"));
        Evaluation evaluation = new Evaluation(model, config);
        var sample = evaluation.sample(2, 50, 0);
        for (EvalStrategy s : config.strategies()) {
            SampleResult r = evaluation.answer(s, sample, 2, 50, 0);
            assertTrue(r.note().isEmpty(), s.name() + " should not truncate: " + r.note());
            assertTrue(r.tokensEncoded() >= sample.tokens(), s.name() + " encodes every document token: " + r);
        }
    }

    @Test
    void theSameSeedGivesTheSameSamplesAndAnswers() {
        EvalConfig config = config(List.of("parallel"));
        Evaluation a = new Evaluation(model, config), b = new Evaluation(model, config);
        assertEquals(a.sample(2, 0, 1), b.sample(2, 0, 1));
        assertFalse(a.sample(2, 0, 1).equals(a.sample(2, 0, 0)), "samples differ from one another");
        var sample = a.sample(1, 100, 0);
        assertEquals(a.answer(config.strategies().getFirst(), sample, 1, 100, 0).reply(),
                b.answer(config.strategies().getFirst(), sample, 1, 100, 0).reply());
    }
}
