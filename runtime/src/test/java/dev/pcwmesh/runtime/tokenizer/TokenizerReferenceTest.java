package dev.pcwmesh.runtime.tokenizer;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every test vector llama.cpp ships for the vocabularies kept in {@code ../shared/models/ggml-vocab}
 * must tokenize to exactly the reference ids. ({@code bert-bge} is WordPiece, which this package
 * does not implement; {@code baichuan} and {@code gpt-neox} come without vectors; the vectors of
 * {@code llama-bpe}, {@code qwen2}, ... come without their vocabularies.)
 */
class TokenizerReferenceTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm", "mpt", "phi-3", "refact", "starcoder"})
    void matchesLlamaCppVectors(String name) throws Exception {
        Path file = TestModels.shared("ggml-vocab/ggml-vocab-" + name + ".gguf");
        ReferenceVectors vectors = ReferenceVectors.read(file);
        List<String> failures = new ArrayList<>();
        try (GgufFile gguf = GgufFile.open(file)) {
            Tokenizer t = Tokenizer.fromGguf(gguf);
            for (int i = 0; i < vectors.inputs().size(); i++) {
                String input = vectors.inputs().get(i);
                int[] want = vectors.expected().get(i);
                int[] got = t.encode(input, false, false);
                if (!Arrays.equals(want, got)) {
                    failures.add("case " + i + " " + show(input) + "\n    expected " + Arrays.toString(want) + "\n    got      " + Arrays.toString(got));
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(name + ": " + failures.size() + " of " + vectors.inputs().size() + " cases differ:\n" + String.join("\n", failures));
        }
        assertEquals(46, vectors.inputs().size(), "the vector file should hold the 46 cases of llama.cpp's set");
    }

    private static String show(String s) {
        return "'" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
    }
}
