package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pcw eval on stories260K, small: every output is written; bad names are refused clearly. */
class EvalCommandTest {
    @TempDir Path dir;

    CliRun eval(String... extra) {
        List<String> args = new ArrayList<>(List.of("eval", "--model", TestModels.shared(Stories260K.FILE).toString(),
                "--lengths", "1,2", "--depths", "0,100", "--samples", "2", "--seed", "3",
                "--out", dir.resolve("out").toString()));
        args.addAll(List.of(extra));
        return CliRun.run(args.toArray(String[]::new));
    }

    @Test
    void writesTablesAndPlots() throws IOException {
        // RULER's instructions take about 200 of stories260K's small-vocabulary tokens: a window of 384 leaves room for a document.
        CliRun r = eval("--task", "multi-key", "--flavour", "ruler", "--strategies", "select,lambda", "--trained-window", "384");
        assertEquals(0, r.exitCode(), r.err());
        Path out = dir.resolve("out");
        for (String f : List.of("results.md", "results.csv", "samples.csv", "accuracy-by-length.png", "heatmap-select.png", "heatmap-lambda.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("multi-key (ruler flavour)") && md.contains("pcw eval --model"), md);
        assertTrue(r.out().contains("select") && r.out().contains("1x=") && r.out().contains("wrote "), r.out());
        assertTrue(r.err().contains("16/16"), "the progress bar reaches the end: " + r.err());
    }

    @Test
    void refusesUnknownNames() {
        assertTrue(eval("--task", "magic").err().contains("unknown task 'magic'"));
        assertTrue(eval("--task", "needle", "--flavour", "magic").err().contains("unknown flavour 'magic'"));
        assertTrue(eval("--task", "needle", "--strategies", "parallel,magic").err().contains("unknown strategy 'magic'"));
        assertTrue(eval("--task", "needle", "--depths", "120").err().contains("depths are percentages"));
        CliRun tooSmall = eval("--task", "needle", "--trained-window", "40");
        assertTrue(tooSmall.err().contains("leaves"), "a trained window too small for the question is named: " + tooSmall.err());
    }
}
