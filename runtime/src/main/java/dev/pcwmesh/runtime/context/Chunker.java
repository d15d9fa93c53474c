package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a document into windows of at most {@code maxTokens} tokens. The text is tokenized once,
 * as a whole, so the windows together are exactly the document's tokens; cuts fall after a token
 * that ends a paragraph (a newline) when one lies in the second half of the window, else after
 * one that ends a sentence ({@code . ! ?}) in its last three quarters, else at the window's end
 * (a sentence longer than a window is cut between tokens).
 */
public final class Chunker {
    private final Tokenizer tokenizer;
    private final int maxTokens;

    public Chunker(Tokenizer tokenizer, int maxTokens) {
        if (maxTokens < 1) throw new IllegalArgumentException("windows must hold at least 1 token, got " + maxTokens);
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
    }

    /** The document's tokens (no BOS) in windows. */
    public List<int[]> split(String text) {
        if (text.isBlank()) throw new IllegalArgumentException("the document is empty");
        if (text.indexOf('\u0000') >= 0) throw new IllegalArgumentException("the document holds NUL characters: it looks binary, not text");
        return split(tokenizer.encode(text, false, false));
    }

    /** Windows of an already tokenized document. */
    public List<int[]> split(int[] tokens) {
        List<int[]> windows = new ArrayList<>();
        int start = 0;
        while (start < tokens.length) {
            int end = tokens.length - start <= maxTokens ? tokens.length : cut(tokens, start);
            windows.add(Arrays.copyOfRange(tokens, start, end));
            start = end;
        }
        return windows;
    }

    /** Where the window starting at {@code start} ends (exclusive), the document going on beyond it. */
    private int cut(int[] tokens, int start) {
        int limit = start + maxTokens;
        for (int end = limit; end > start + maxTokens / 2; end--) {
            if (endsParagraph(tokens[end - 1])) return end;
        }
        for (int end = limit; end > start + maxTokens / 4; end--) {
            if (endsSentence(tokens[end - 1])) return end;
        }
        return limit;
    }

    private boolean endsParagraph(int token) {
        return text(token).indexOf('\n') >= 0;
    }

    private boolean endsSentence(int token) {
        String t = text(token).stripTrailing();
        return !t.isEmpty() && ".!?".indexOf(t.charAt(t.length() - 1)) >= 0;
    }

    private String text(int token) {
        return new String(tokenizer.tokenBytes(token), StandardCharsets.UTF_8);
    }
}
