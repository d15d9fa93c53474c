package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Cuts a document into windows of at most {@code maxTokens} tokens, on paragraph, then sentence
 * boundaries, never inside a token.
 *
 * <p>The text is tokenized once, as a whole, so the windows together are exactly the document's
 * tokens. Boundaries are found in the text the tokens decode to (their bytes concatenated, so a
 * character split over several byte-level tokens is whole again): sentence ends by
 * {@link BreakIterator#getSentenceInstance(Locale)}, which also segments scripts without spaces
 * (Chinese {@code 。！？}, Japanese, Thai ...), and paragraph ends at blank lines. Each boundary is
 * mapped to a token boundary through the decoded length of each token: the cut goes after the
 * last token that ends inside the whitespace following the sentence (so trailing newlines stay
 * with the paragraph they end, and a leading space that a tokenizer glues to the next word goes
 * with the next window); a boundary that falls inside a token is not used.
 *
 * <p>A window that must be cut ends at a paragraph end in its second half if there is one, else
 * at a sentence end in its last three quarters, else (a sentence longer than that) at the last
 * token boundary that is also a character boundary, else at the window's last token.
 */
public final class Chunker {
    private static final byte CHARACTER = 1, SENTENCE = 2, PARAGRAPH = 3;

    private final Tokenizer tokenizer;
    private final int maxTokens;
    private final Locale locale;

    public Chunker(Tokenizer tokenizer, int maxTokens) {
        this(tokenizer, maxTokens, Locale.ROOT);
    }

    /** With the locale whose sentence rules {@link BreakIterator} applies. */
    public Chunker(Tokenizer tokenizer, int maxTokens, Locale locale) {
        if (maxTokens < 1) throw new IllegalArgumentException("windows must hold at least 1 token, got " + maxTokens);
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.locale = locale;
    }

    public int maxTokens() { return maxTokens; }

    /** The document's tokens (no BOS) in windows. */
    public List<int[]> split(String text) {
        if (text.isBlank()) throw new IllegalArgumentException("the document is empty");
        if (text.indexOf('\u0000') >= 0) throw new IllegalArgumentException("the document holds NUL characters: it looks binary, not text");
        return split(tokenizer.encode(text, false, false));
    }

    /** Windows of an already tokenized document. */
    public List<int[]> split(int[] tokens) {
        List<int[]> windows = new ArrayList<>();
        if (tokens.length == 0) return windows;
        byte[] kind = tokens.length <= maxTokens ? null : boundaries(tokens);
        int start = 0;
        while (start < tokens.length) {
            int end = tokens.length - start <= maxTokens ? tokens.length : cut(kind, start);
            windows.add(Arrays.copyOfRange(tokens, start, end));
            start = end;
        }
        return windows;
    }

    /** Where the window starting at {@code start} ends (exclusive), the document going on beyond it. */
    private int cut(byte[] kind, int start) {
        int limit = start + maxTokens;
        for (int end = limit; end > start + maxTokens / 2; end--) {
            if (kind[end] >= PARAGRAPH) return end;
        }
        for (int end = limit; end > start + maxTokens / 4; end--) {
            if (kind[end] >= SENTENCE) return end;
        }
        for (int end = limit; end > start; end--) {
            if (kind[end] >= CHARACTER) return end;
        }
        return limit;
    }

    /**
     * For every token boundary {@code k} (between token {@code k-1} and token {@code k}): 0 if it
     * lies inside a character, {@link #CHARACTER}, {@link #SENTENCE} or {@link #PARAGRAPH}.
     */
    private byte[] boundaries(int[] tokens) {
        int n = tokens.length;
        int[] tokenEnd = new int[n + 1];                   // byte offset of each token boundary
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            byte[] b = tokenizer.tokenBytes(tokens[i]);
            all.write(b, 0, b.length);
            tokenEnd[i + 1] = tokenEnd[i] + b.length;
        }
        Utf8Text text = Utf8Text.decode(all.toByteArray());

        byte[] kind = new byte[n + 1];
        for (int k = 0; k <= n; k++) {
            if (text.isCharacterStart(tokenEnd[k])) kind[k] = CHARACTER;
        }

        String s = text.string();
        BreakIterator sentences = BreakIterator.getSentenceInstance(locale);
        sentences.setText(s);
        for (int end = sentences.next(); end != BreakIterator.DONE && end < s.length(); end = sentences.next()) {
            mark(kind, tokenEnd, text, s, end, SENTENCE);
        }
        // Paragraphs: the end of every run of whitespace holding a blank line (two line breaks).
        int i = 0;
        while (i < s.length()) {
            if (!Character.isWhitespace(s.charAt(i))) { i++; continue; }
            int runStart = i, breaks = 0;
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                char c = s.charAt(i);
                if (c == '\n' || c == '\u2029') breaks++;
                else if (c == '\r' && (i + 1 >= s.length() || s.charAt(i + 1) != '\n')) breaks++;
                i++;
            }
            if (breaks >= 2 && runStart > 0 && i < s.length()) mark(kind, tokenEnd, text, s, i, PARAGRAPH);
        }
        return kind;
    }

    /**
     * Marks the token boundary for a text boundary at char index {@code end} (the start of the next
     * sentence or paragraph): the last token boundary between the end of the preceding content
     * (before its trailing whitespace) and {@code end}, if any.
     */
    private static void mark(byte[] kind, int[] tokenEnd, Utf8Text text, String s, int end, byte level) {
        int contentEnd = end;
        while (contentEnd > 0 && Character.isWhitespace(s.charAt(contentEnd - 1))) contentEnd--;
        if (contentEnd == 0) return;
        int lo = text.byteOffset(contentEnd), hi = text.byteOffset(end);
        int k = Arrays.binarySearch(tokenEnd, hi);
        if (k < 0) k = -k - 2;                             // last boundary below hi
        if (k <= 0 || k >= kind.length - 1 || tokenEnd[k] < lo) return;
        if (kind[k] < level) kind[k] = level;
    }

    /** Bytes decoded as UTF-8 (malformed bytes become U+FFFD), with the byte offset of each char. */
    private record Utf8Text(String string, int[] charOffsets, boolean[] charStart) {
        static Utf8Text decode(byte[] b) {
            StringBuilder sb = new StringBuilder(b.length);
            int[] offsets = new int[b.length + 1];         // byte offset of each char (at most one char per byte)
            boolean[] starts = new boolean[b.length + 1];
            int chars = 0, i = 0;
            while (i < b.length) {
                starts[i] = true;
                int len = sequenceLength(b, i);
                int cp;
                if (len == 0) { cp = 0xFFFD; len = 1; } else cp = codePoint(b, i, len);
                offsets[chars++] = i;
                if (Character.isSupplementaryCodePoint(cp)) offsets[chars++] = i;   // low surrogate: same offset
                sb.appendCodePoint(cp);
                i += len;
            }
            starts[b.length] = true;
            offsets[chars] = b.length;
            return new Utf8Text(sb.toString(), Arrays.copyOf(offsets, chars + 1), starts);
        }

        int byteOffset(int charIndex) { return charOffsets[charIndex]; }

        boolean isCharacterStart(int byteOffset) { return charStart[byteOffset]; }

        /** Length of a well-formed UTF-8 sequence at {@code i}, or 0. */
        private static int sequenceLength(byte[] b, int i) {
            int c = b[i] & 0xFF;
            int len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
            if (len == 0 || i + len > b.length) return 0;
            for (int j = 1; j < len; j++) if ((b[i + j] & 0xC0) != 0x80) return 0;
            int cp = codePoint(b, i, len);
            if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
            return len;
        }

        private static int codePoint(byte[] b, int i, int len) {
            return switch (len) {
                case 1 -> b[i];
                case 2 -> (b[i] & 0x1F) << 6 | (b[i + 1] & 0x3F);
                case 3 -> (b[i] & 0x0F) << 12 | (b[i + 1] & 0x3F) << 6 | (b[i + 2] & 0x3F);
                default -> (b[i] & 0x07) << 18 | (b[i + 1] & 0x3F) << 12 | (b[i + 2] & 0x3F) << 6 | (b[i + 3] & 0x3F);
            };
        }
    }
}
