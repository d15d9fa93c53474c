package dev.pcwmesh.runtime.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors ({@code tests/test-tokenizer-0.cpp}): in {@code NAME.gguf.inp}
 * each case is followed by the line {@code __ggml_vocab_test__}; {@code NAME.gguf.out} has, per
 * case, one line of space-separated ids, tokenized without added special tokens and without
 * parsing special tokens in the text.
 */
record ReferenceVectors(List<String> inputs, List<int[]> expected) {

    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static ReferenceVectors read(Path vocab) throws IOException {
        String raw = Files.readString(Path.of(vocab + ".inp"), StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length()) { // the same splitting as read_tests in test-tokenizer-0.cpp
            int next = raw.indexOf(SEPARATOR, pos);
            if (next < 0) {
                inputs.add(raw.substring(pos));
                break;
            }
            inputs.add(raw.substring(pos, next));
            pos = next + SEPARATOR.length();
        }
        List<int[]> expected = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(vocab + ".out"), StandardCharsets.UTF_8)) {
            String t = line.strip();
            expected.add(t.isEmpty() ? new int[0] : Arrays.stream(t.split(" ")).mapToInt(Integer::parseInt).toArray());
        }
        if (inputs.size() != expected.size()) {
            throw new IllegalStateException(vocab + ": " + inputs.size() + " inputs but " + expected.size() + " expected outputs");
        }
        return new ReferenceVectors(inputs, expected);
    }
}
