package dev.pcwmesh.eval;

import java.util.List;

/**
 * Exact match on the answer line: the reply up to its first newline, trimmed, a final full stop
 * dropped. One expected answer: the line must be exactly it. Several (multi-value, multi-query,
 * variable tracking): each must be in the line as a whole word (not inside a longer number or
 * name), in any order. No loose "contains" for single answers: "TN-8087 or TN-8088" is wrong.
 */
public final class AnswerScorer {
    private AnswerScorer() {}

    public static boolean correct(String reply, List<String> expected) {
        String line = answerLine(reply);
        if (expected.size() == 1) return line.equals(expected.getFirst());
        return expected.stream().allMatch(e -> containsWord(line, e));
    }

    /** The reply's first line, trimmed, without a final full stop. */
    public static String answerLine(String reply) {
        int newline = reply.indexOf('\n');
        String line = (newline < 0 ? reply : reply.substring(0, newline)).strip();
        return line.endsWith(".") ? line.substring(0, line.length() - 1).strip() : line;
    }

    static boolean containsWord(String text, String word) {
        for (int at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
            boolean startsWord = at == 0 || !Character.isLetterOrDigit(text.charAt(at - 1));
            int end = at + word.length();
            boolean endsWord = end == text.length() || !Character.isLetterOrDigit(text.charAt(end));
            if (startsWord && endsWord) return true;
        }
        return false;
    }
}
