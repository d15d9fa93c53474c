package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tokenize, generate and perplexity on stories260K, checked against llama.cpp's reference. */
class ModelCommandsTest {
    static String ids(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }

    @Test
    void tokenizePrintsTheReferenceIdsWithBos() {
        CliRun r = CliRun.run("tokenize", "--model", TestModels.shared(Stories260K.FILE).toString(), "--text", Stories260K.PROMPT_TEXT);
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(ids(Stories260K.PROMPT), r.out().strip());
    }

    @Test
    void tokenizeWorksOnVocabularyOnlyFiles() {
        // ggml-vocab-gpt-2.gguf carries a tokenizer and no weights; "Hello world" is 15496 995 in GPT-2.
        CliRun r = CliRun.run("tokenize", "--model", TestModels.shared("ggml-vocab/ggml-vocab-gpt-2.gguf").toString(), "--text", "Hello world", "--no-special");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("15496 995", r.out().strip());
    }

    @Test
    void greedyGenerateGivesTheReferenceTextAndIds() {
        CliRun r = CliRun.run("generate", "--model", TestModels.shared(Stories260K.FILE).toString(), "--prompt", Stories260K.PROMPT_TEXT,
                "--temperature", "0", "--max-tokens", "64", "--ids");
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(ids(Stories260K.GREEDY_64), lines[lines.length - 1]);
        assertTrue(r.out().startsWith(Stories260K.GREEDY_64_TEXT), r.out());
    }

    @Test
    void seededSamplingIsReproducible() {
        String model = TestModels.shared(Stories260K.FILE).toString();
        CliRun a = CliRun.run("generate", "--model", model, "--prompt", "Tim", "--seed", "7", "--max-tokens", "20");
        CliRun b = CliRun.run("generate", "--model", model, "--prompt", "Tim", "--seed", "7", "--max-tokens", "20");
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(a.out(), b.out());
    }

    @Test
    void perplexityEndsWithPplLine(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("story.txt");
        Files.writeString(text, ("Once upon a time" + Stories260K.GREEDY_64_TEXT + "\n").repeat(4));
        CliRun r = CliRun.run("perplexity", "--model", TestModels.shared(Stories260K.FILE).toString(), "--file", text.toString(), "--ctx", "64");
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.matches("ppl=\\d+\\.\\d{4}"), last);
        assertTrue(Double.parseDouble(last.substring(4)) < 5, last);
    }

    @Test
    void aMissingModelIsOneClearLine() {
        CliRun r = CliRun.run("generate", "--model", "/nonexistent/model.gguf", "--prompt", "x");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("pcw: model file not found"), r.err());
    }

}
