package dev.pcwmesh.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * llama.cpp runs the GPT-2 and Llama 3 regexes as hand-written scanners; they must split exactly
 * as the regexes themselves would (run here over the class-collapsed text), on text mixing every
 * kind of character the scanners branch on.
 */
class RegexSplitterTest {

    private static final String[] ALPHABET = {"a", "Z", "é", "日", "ß", "1", "٣", "²", " ", " ", "  ", "\n", "\r\n", "\t", "\u00A0", "\u3000",
            "'", "'s", "'T", "'re", "'ll", "'D", "!", ",", ".", "(", "$", "+", "🦙", "\u0301", "-", "_", "/"};

    @Test
    void gpt2ScannerMatchesItsRegex() {
        compare(RegexSplitter.GPT2);
    }

    @Test
    void llama3ScannerMatchesItsRegex() {
        compare(RegexSplitter.LLAMA3);
    }

    private static void compare(String regex) {
        RegexSplitter scanner = new RegexSplitter(List.of(regex), true);
        RegexSplitter general = new RegexSplitter(List.of(regex), false);
        Random r = new Random(42);
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + r.nextInt(12);
            for (int k = 0; k < n; k++) sb.append(ALPHABET[r.nextInt(ALPHABET.length)]);
            String text = sb.toString();
            assertEquals(general.split(text), scanner.split(text), () -> "splits of '" + text.replace("\n", "\\n").replace("\r", "\\r") + "'");
        }
    }
}
