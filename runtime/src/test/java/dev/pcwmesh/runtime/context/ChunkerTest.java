package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Windows on paragraph and sentence boundaries, in English and in Chinese, never inside a token or a character. */
class ChunkerTest {
    private static final List<GgufFile> files = new ArrayList<>();
    private static Tokenizer gpt2, spm;

    @BeforeAll
    static void load() {
        gpt2 = tokenizer("ggml-vocab/ggml-vocab-gpt-2.gguf");
        spm = tokenizer("stories260K.gguf");
    }

    private static Tokenizer tokenizer(String relative) {
        GgufFile f = GgufFile.open(TestModels.shared(relative));
        files.add(f);
        return Tokenizer.fromGguf(f);
    }

    @AfterAll
    static void close() {
        files.forEach(GgufFile::close);
    }

    /** Chinese has no spaces; sentences end in 。！？ and each character is several byte-level BPE tokens. */
    @Test
    void chineseIsCutAfterSentenceEnds() {
        String[] sentences = {"今天天气很好。", "我们去公园散步吧！", "你觉得怎么样？", "小猫在树下睡觉。", "妈妈做了一顿丰盛的晚饭。",
                "孩子们在院子里玩耍。", "雨停了，天空出现了彩虹。", "他读完了那本书。"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) sb.append(sentences[i % sentences.length]);
        String text = sb.toString();
        int[] tokens = gpt2.encode(text, false, false);
        assertTrue(tokens.length > text.length(), "CJK characters are several tokens each in GPT-2's vocabulary");

        int w = 48;
        List<int[]> windows = new Chunker(gpt2, w).split(text);
        assertWindows(tokens, windows, w);
        assertTrue(windows.size() > 5);
        for (int i = 0; i < windows.size() - 1; i++) {
            String t = utf8(gpt2, windows.get(i));
            assertTrue(t.endsWith("。") || t.endsWith("！") || t.endsWith("？"), "window " + i + " ends mid-sentence: " + t);
            assertTrue(isSentenceStart(utf8(gpt2, windows.get(i + 1)), sentences), "window " + (i + 1) + " starts mid-sentence");
        }
        assertEquals(text, concatenatedText(gpt2, windows));
    }

    /** Paragraphs of Chinese: a blank line is preferred to a sentence end when one lies in the window's second half. */
    @Test
    void chineseParagraphsArePreferred() {
        String para = "第一句话在这里。第二句话也在这里。第三句话结束了这一段。\n\n";
        String text = para.repeat(12);
        int[] tokens = gpt2.encode(text, false, false);
        int paraTokens = gpt2.encode(para, false, false).length;
        int w = paraTokens * 2 + 3;
        List<int[]> windows = new Chunker(gpt2, w).split(text);
        assertWindows(tokens, windows, w);
        for (int i = 0; i < windows.size() - 1; i++) {
            String t = utf8(gpt2, windows.get(i));
            assertTrue(t.endsWith("。\n\n"), "window " + i + " does not end a paragraph: " + t);
        }
    }

    /** A run of Chinese with no sentence end is cut between tokens, but never inside a character. */
    @Test
    void longChineseSentenceIsCutBetweenCharacters() {
        String text = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜".repeat(6);
        int[] tokens = gpt2.encode(text, false, false);
        for (int w : new int[] {7, 13, 32}) {
            List<int[]> windows = new Chunker(gpt2, w).split(text);
            assertWindows(tokens, windows, w);
            for (int[] window : windows) utf8(gpt2, window);   // throws if a window holds part of a character
        }
    }

    @Test
    void englishParagraphsThenSentences() {
        String para = "The cat sat on the mat. It was a sunny day! Did the dog come too? No, it did not.\n\n";
        String text = para.repeat(10);
        for (Tokenizer t : new Tokenizer[] {gpt2, spm}) {
            int[] tokens = t.encode(text, false, false);
            int paraTokens = t.encode(para, false, false).length;
            List<int[]> windows = new Chunker(t, paraTokens + 5).split(text);
            assertWindows(tokens, windows, paraTokens + 5);
            for (int i = 0; i < windows.size() - 1; i++) {
                assertTrue(utf8(t, windows.get(i)).endsWith(".\n\n"), "window " + i + " does not end the paragraph");
            }
            // Windows shorter than a paragraph end at sentence ends, and the next one starts with a word.
            int w = paraTokens / 2 + 2;
            windows = new Chunker(t, w).split(text);
            assertWindows(tokens, windows, w);
            for (int i = 0; i < windows.size() - 1; i++) {
                String s = utf8(t, windows.get(i)).strip();
                assertTrue(s.endsWith(".") || s.endsWith("!") || s.endsWith("?"), "window " + i + " ends mid-sentence: " + s);
            }
        }
    }

    @Test
    void tokensAndTextGiveTheSameWindows() {
        String text = "One sentence here. Another one there.\n\nA new paragraph starts. 中文句子。另一个句子！".repeat(5);
        int[] tokens = gpt2.encode(text, false, false);
        Chunker c = new Chunker(gpt2, 20);
        List<int[]> a = c.split(text), b = c.split(tokens);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i));
        assertWindows(tokens, a, 20);
    }

    @Test
    void shortDocumentIsOneWindowAndBadInputIsRefused() {
        List<int[]> one = new Chunker(gpt2, 100).split("Just one short sentence.");
        assertEquals(1, one.size());
        assertThrows(IllegalArgumentException.class, () -> new Chunker(gpt2, 10).split("  \n "));
        assertThrows(IllegalArgumentException.class, () -> new Chunker(gpt2, 10).split("a\u0000b"));
        assertThrows(IllegalArgumentException.class, () -> new Chunker(gpt2, 0));
        assertEquals(0, new Chunker(gpt2, 10).split(new int[0]).size());
    }

    /** Every window holds at most w tokens, none is empty, and together they are exactly the document's tokens. */
    static void assertWindows(int[] tokens, List<int[]> windows, int w) {
        int n = 0;
        for (int[] window : windows) {
            assertTrue(window.length >= 1 && window.length <= w, "window of " + window.length + " tokens, limit " + w);
            for (int id : window) {
                if (tokens[n++] != id) fail("windows differ from the document's tokens at token " + (n - 1));
            }
        }
        assertEquals(tokens.length, n, "windows hold every token");
    }

    private static boolean isSentenceStart(String window, String[] sentences) {
        for (String s : sentences) if (window.startsWith(s.substring(0, 2))) return true;
        return false;
    }

    private static String concatenatedText(Tokenizer t, List<int[]> windows) {
        StringBuilder sb = new StringBuilder();
        for (int[] w : windows) sb.append(utf8(t, w));
        return sb.toString();
    }

    /** The window's bytes as strict UTF-8: fails if a window begins or ends inside a character. */
    private static String utf8(Tokenizer t, int[] window) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : window) out.writeBytes(t.tokenBytes(id));
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("window is not whole UTF-8 characters", e);
        }
    }
}
