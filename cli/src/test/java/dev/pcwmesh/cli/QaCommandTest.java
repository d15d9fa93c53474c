package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pcw qa on stories260K: every strategy and position encoding answers and reports its figures; bad input is refused clearly. */
class QaCommandTest {
    @TempDir Path dir;

    static final String STORY = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the park.
            One day, she saw a big red ball under a tree. She wanted to play with it, but it was too high.

            Lily's mom said they could go to the shop and buy a kite. Lily was very happy and smiled.
            Tom was a small dog who liked to run. He ran to the pond and saw a duck swimming in the water.
            The sun was hot, so they sat under the tree and ate some cake. Then they went home to sleep.
            """;

    Path story() throws IOException {
        return Files.writeString(dir.resolve("story.txt"), STORY);
    }

    CliRun qa(Path doc, String... extra) {
        List<String> args = new ArrayList<>(List.of("qa", "--model", TestModels.shared(Stories260K.FILE).toString(), "--doc", doc.toString(),
                "--question", "Who saw the duck?", "--window", "32", "-n", "8", "--trained-window", "96"));
        args.addAll(List.of(extra));
        return CliRun.run(args.toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"parallel", "select", "sequential", "lambda", "tokens"})
    void everyStrategyAnswersWithItsFigures(String strategy) throws IOException {
        CliRun r = qa(story(), "--strategy", strategy, "--top-k", "2");
        assertEquals(0, r.exitCode(), r.err());
        String figures = r.out().lines().filter(l -> l.startsWith("strategy=")).findFirst().orElseThrow(() -> new AssertionError(r.out()));
        assertTrue(figures.startsWith("strategy=" + strategy + " "), figures);
        assertTrue(figures.contains("ttft=") && figures.contains("tokens/s") && figures.contains("kv="), figures);
        assertTrue(r.out().lines().findFirst().orElse("").strip().length() > 0, "an answer comes first: " + r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"linear", "ntk", "dynamic-ntk", "yarn", "llama3", "rerope", "leaky-rerope"})
    void everyRescalingRunsWithSequential(String rope) throws IOException {
        CliRun r = qa(story(), "--strategy", "sequential", "--rope", rope, "--rope-scale", "2", "--rerope-window", "32");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("strategy=sequential rope="), r.out());
    }

    @Test
    void truncationIsFlagged() throws IOException {
        CliRun r = qa(story(), "--strategy", "sequential");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("note: truncated"), r.out());
    }

    @Test
    void invalidUtf8IsRefused() throws IOException {
        Path bad = Files.write(dir.resolve("bad.txt"), new byte[]{'a', (byte) 0xC3, (byte) 0x28, 'b'});
        CliRun r = qa(bad);
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("not valid UTF-8"), r.err());
    }

    @Test
    void emptyAndOversizedDocumentsAndUnknownNamesAreRefused() throws IOException {
        Path empty = Files.writeString(dir.resolve("empty.txt"), "  \n");
        assertTrue(qa(empty).err().contains("the document is empty"));
        assertTrue(qa(story(), "--max-doc-bytes", "10").err().contains("more than --max-doc-bytes"));
        assertTrue(qa(story(), "--strategy", "magic").err().contains("unknown strategy 'magic'"));
        assertTrue(qa(story(), "--rope", "magic").err().contains("unknown rope 'magic'"));
        assertTrue(qa(story(), "--rope", "truncated-basis").err().contains("needs a basis A,B,RHO (--basis)"));
    }
}
