package dev.pcwmesh.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pcw bench on stories260K: one table row per thread count and test, with positive rates in order; bad sizes refused. */
class BenchCommandTest {

    @Test
    void printsARowPerThreadCountAndTest() {
        Path model = dev.pcwmesh.runtime.TestModels.shared("stories260K.gguf");
        CliRun r = CliRun.run("bench", "-m", model.toString(), "-p", "16,32", "-n", "4", "-t", "1,2", "-r", "2", "--warm-up", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("llama, 5 layers, d 64"), r.out());
        assertTrue(r.out().contains("-bit ("), "the vector width is reported: " + r.out());
        List<String[]> rows = r.out().lines().filter(l -> l.startsWith("| stories260K.gguf"))
                .map(l -> l.substring(1, l.length() - 1).split("\\|")).toList();
        assertEquals(List.of("1 pp16", "1 pp32", "1 tg4", "2 pp16", "2 pp32", "2 tg4"),
                rows.stream().map(c -> c[4].strip() + " " + c[5].strip()).toList());
        for (String[] c : rows) {
            double median = Double.parseDouble(c[6].strip()), min = Double.parseDouble(c[7].strip()), max = Double.parseDouble(c[8].strip());
            assertTrue(min > 0 && min <= median && median <= max, String.join("|", c));
        }
    }

    @Test
    void withoutAModelItListsTheSubcommandsAndRefusesBadSizes() {
        CliRun usage = CliRun.run("bench");
        assertEquals(0, usage.exitCode());
        assertTrue(usage.out().contains("strategies") && usage.out().contains("mesh"), usage.out());
        Path model = dev.pcwmesh.runtime.TestModels.shared("stories260K.gguf");
        CliRun bad = CliRun.run("bench", "-m", model.toString(), "-r", "0");
        assertNotEquals(0, bad.exitCode());
        assertTrue(bad.err().contains("--repetitions must be at least 1"), bad.err());
        CliRun badWarmUp = CliRun.run("bench", "-m", model.toString(), "--warm-up", "-1");
        assertNotEquals(0, badWarmUp.exitCode());
        assertTrue(badWarmUp.err().contains("--warm-up must be at least 0 seconds"), badWarmUp.err());
    }
}
