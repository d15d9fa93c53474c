package dev.pcwmesh.runtime.tokenizer;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {

    private static final Map<String, Tokenizer> CACHE = new HashMap<>();

    /** Tokenizers are immutable and keep no reference to the mapped file, so one per vocabulary is enough. */
    static Tokenizer load(String relative) {
        return CACHE.computeIfAbsent(relative, r -> {
            try (GgufFile f = GgufFile.open(TestModels.shared(r))) {
                return Tokenizer.fromGguf(f);
            }
        });
    }

    @Test
    void storiesPromptAsLlamaCpp() {
        Tokenizer t = load("stories260K.gguf");
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, t.encode("Once upon a time", true, false));
        assertEquals(512, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertTrue(t.addBos());
        assertFalse(t.addEos());
        assertTrue(t.isEndOfGeneration(2));
        assertTrue(t.isControl(1));
        assertFalse(t.isControl(403));
    }

    @Test
    void storiesContinuationDecodesToTheReferenceText() {
        Tokenizer t = load("stories260K.gguf");
        int[] ids = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433,
                426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270,
                333, 415, 426, 13, 438, 310, 439, 419, 357, 336};
        String expected = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball."
                + " She wanted to play with it, but it was too high.\nLily's mom said";
        assertEquals(expected, t.decode(ids));
        StreamingDecoder s = new StreamingDecoder(t);
        StringBuilder streamed = new StringBuilder();
        for (int id : ids) streamed.append(s.push(id));
        streamed.append(s.flush());
        assertEquals(expected, streamed.toString());
    }

    @Test
    void sentencePieceRoundTripsWithByteFallback() {
        Tokenizer t = load("ggml-vocab/ggml-vocab-llama-spm.gguf");
        for (String text : new String[] {"Hello world", " leading space", "tabs\tand\nlines", "Grüße, 日本語 and 🦙 llamas", "  two", ""}) {
            assertEquals(text, t.decode(t.encode(text, false, false)), "round trip of '" + text + "'");
        }
        // With BOS, llama.cpp renders it and keeps the prefix space out of the text.
        assertEquals("<s> Hello", t.decode(t.encode("Hello", true, false)));
        // 🦙 is not in the vocabulary: four byte tokens.
        int[] llama = t.encode("🦙", false, false);
        assertEquals(5, llama.length, "▁ plus four bytes");
        assertEquals("<0xF0>", t.piece(llama[1]));
    }

    @Test
    void bytePairRoundTrips() {
        for (String vocab : new String[] {"gpt-2", "starcoder", "deepseek-llm", "falcon"}) {
            Tokenizer t = load("ggml-vocab/ggml-vocab-" + vocab + ".gguf");
            for (String text : new String[] {"Hello world", "  indented\n\tcode()", "Grüße 日本語 🦙 3333"}) {
                assertEquals(text, t.decode(t.encode(text, false, false)), vocab + ": round trip of '" + text + "'");
            }
        }
    }

    @Test
    void gpt2CleansSpacesWhenDecodingAsLlamaCpp() {
        Tokenizer t = load("ggml-vocab/ggml-vocab-gpt-2.gguf");
        assertEquals("Hello, world. It's", t.decode(t.encode("Hello , world . It 's", false, false)));
    }

    @Test
    void streamingHoldsBackHalfACharacter() {
        Tokenizer t = load("ggml-vocab/ggml-vocab-llama-spm.gguf");
        int[] ids = t.encode("a🦙b", false, false); // ▁a, <0xF0>, <0x9F>, <0xA6>, <0x99>, b
        StreamingDecoder s = new StreamingDecoder(t);
        StringBuilder out = new StringBuilder();
        int emptyPushes = 0;
        for (int id : ids) {
            String piece = s.push(id);
            if (piece.isEmpty()) emptyPushes++;
            out.append(piece);
        }
        assertEquals(3, emptyPushes, "the first three bytes of the llama emit nothing");
        assertEquals(" a🦙b", out + s.flush());
        // a character that never completes comes out as U+FFFD at the end
        StreamingDecoder broken = new StreamingDecoder(t);
        assertEquals("", broken.push(t.encode("🦙", false, false)[1]));
        assertEquals("\uFFFD", broken.flush());
    }

    @Test
    void tokenBytesAreRawBytes() {
        Tokenizer t = load("ggml-vocab/ggml-vocab-gpt-2.gguf");
        int id = t.encode(" the", false, false)[0];
        assertEquals("Ġthe", t.piece(id));
        assertArrayEquals(" the".getBytes(StandardCharsets.UTF_8), t.tokenBytes(id));
        assertArrayEquals("<|endoftext|>".getBytes(StandardCharsets.UTF_8), t.tokenBytes(50256));
    }

    @Test
    void specialTokensMatchedWholeOnlyWhenParsing() {
        Tokenizer t = load("ggml-vocab/ggml-vocab-phi-3.gguf");
        int user = 32010, end = 32007;
        int[] parsed = t.encode("<|user|>\nHi<|end|>", false, true);
        assertEquals(user, parsed[0]);
        assertEquals(end, parsed[parsed.length - 1]);
        int[] literal = t.encode("<|user|>", false, false);
        assertTrue(literal.length > 1, "without parsing, the control token's text is ordinary text");
        for (int id : literal) assertFalse(t.isControl(id));
        // Phi-3's special tokens strip the whitespace after them (llama.cpp's RSTRIP by model name), and the
        // text after a special token gets SentencePiece's prefix space again.
        assertEquals("<|user|> Hi<|end|>", t.decode(parsed));
        assertTrue(t.isEndOfGeneration(end), "<|end|> ends a turn");
        assertTrue(t.isEndOfGeneration(32000), "<|endoftext|> ends generation");
        assertFalse(t.isEndOfGeneration(user));
    }

    @Test
    void longestSpecialTokenWins() {
        Tokenizer t = load("ggml-vocab/ggml-vocab-starcoder.gguf");
        // <pr_diff_hunk> contains <pr_diff> as a prefix: the longer one must be matched first
        int diffHunk = ((VocabTokenizer) t).vocab.id("<pr_diff_hunk>");
        assertArrayEquals(new int[] {diffHunk}, t.encode("<pr_diff_hunk>", false, true));
        int[] ids = t.encode("a<fim_prefix>b<fim_suffix>", false, true);
        assertArrayEquals(new int[] {t.encode("a", false, false)[0], 1, t.encode("b", false, false)[0], 3}, ids);
        assertEquals("a<fim_prefix>b<fim_suffix>", t.decode(ids));
    }

    @Test
    void userDefinedTokensAlwaysMatch() {
        // mpt (neox) has user-defined tokens for runs of spaces; llama.cpp matches them even without parseSpecial
        Tokenizer t = load("ggml-vocab/ggml-vocab-mpt.gguf");
        int fourSpaces = ((VocabTokenizer) t).vocab.id("    ");
        int[] ids = t.encode("a    b", false, false);
        assertTrue(java.util.Arrays.stream(ids).anyMatch(i -> i == fourSpaces));
    }

    @Test
    void unsupportedModelsAreRefusedClearly() {
        try (GgufFile f = GgufFile.open(TestModels.shared("ggml-vocab/ggml-vocab-bert-bge.gguf"))) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(f));
            assertTrue(e.getMessage().contains("'bert'"), e.getMessage());
        }
    }

    @Test
    void unknownPreTokenizerFallsBackToDefault() {
        assertEquals("default", PreTokenizer.named("some-future-model").name());
        assertEquals("default", PreTokenizer.named(null).name());
        assertEquals("llama-bpe", PreTokenizer.named("llama-bpe").name());
    }

    @Test
    void llama3SplitsAsItsRegex() {
        RegexSplitter s = new RegexSplitter(PreTokenizer.named("llama-bpe").regexes());
        assertEquals(java.util.List.of("Hello", ",", " world", "!!!\n", "12345".substring(0, 3), "45", " ", " x", "'s"),
                s.split("Hello, world!!!\n12345  x's"));
        RegexSplitter q = new RegexSplitter(PreTokenizer.named("qwen2").regexes());
        assertEquals(java.util.List.of("1", "2", "3", " abc"), q.split("123 abc"));
    }

    @Test
    void longDocumentsEncodeQuickly() {
        Tokenizer gpt2 = load("ggml-vocab/ggml-vocab-gpt-2.gguf");
        Tokenizer spm = load("ggml-vocab/ggml-vocab-llama-spm.gguf");
        StringBuilder sb = new StringBuilder();
        java.util.Random r = new java.util.Random(7);
        String[] words = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Grüße", "日本", "1234", "don't", "(x)", "\n"};
        while (sb.length() < 100_000) sb.append(words[r.nextInt(words.length)]).append(r.nextInt(5) == 0 ? "  " : " ");
        String text = sb.toString();
        // Correctness first: the whole document round trips.
        assertEquals(text, gpt2.decode(gpt2.encode(text, false, false)));
        assertEquals(text, spm.decode(spm.encode(text, false, false)));
        // Not a benchmark: a generous bound that only an accidentally quadratic path would break.
        long t0 = System.nanoTime();
        gpt2.encode(text, false, false);
        spm.encode(text, false, false);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 5_000, "encoding 2 x 100k characters took " + ms + " ms");
    }
}
