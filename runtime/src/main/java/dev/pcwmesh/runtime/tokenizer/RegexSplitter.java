package dev.pcwmesh.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words with a sequence of regexes, reproducing llama.cpp's
 * {@code unicode_regex_split}: each regex further splits the pieces the previous one left (text
 * between matches is kept as a piece too), the GPT-2 and Llama 3 regexes run as hand-written
 * scanners, and every other regex that names a Unicode class runs over a "collapsed" text in which
 * each non-ASCII code point stands as one byte for its class, so the regex sees exactly the
 * classes llama.cpp's own table gives. Pieces are tracked as lengths in code points.
 */
final class RegexSplitter {

    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    // The stand-ins of the collapsed text, and what each class covers below 128 (llama.cpp's k_ucat_*).
    private static final char COLLAPSED_OTHER = 0xD0;
    private static final String[][] CLASSES = {
            // regex name, stand-in, ASCII members (as a bracket-expression body)
            {"\\p{N}", "\u00D1", "0-9"},
            {"\\p{L}", "\u00D2", "A-Za-z"},
            {"\\p{P}", "\u00D3", "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}"},
            {"\\p{M}", "\u00D4", ""},
            {"\\p{S}", "\u00D5", "\\$\\+<->^`\\|"},
            {"\\p{Lu}", "\u00D2", "A-Za-z"},
            {"\\p{Ll}", "\u00D2", "A-Za-z"},
            {"\\p{Lt}", "\u00D2", "A-Za-z"},
            {"\\p{Lm}", "\u00D2", "A-Za-z"},
            {"\\p{Lo}", "\u00D2", "A-Za-z"},
    };

    /** One regex, ready to run: a custom scanner, or a compiled pattern over collapsed or plain text. */
    private record Step(String source, Pattern pattern, boolean collapsed) {}

    private final List<Step> steps = new ArrayList<>();

    RegexSplitter(List<String> regexes) {
        this(regexes, true);
    }

    /** {@code scanners = false} runs even the GPT-2 and Llama 3 regexes as regexes (to test the scanners against). */
    RegexSplitter(List<String> regexes, boolean scanners) {
        for (String r : regexes) {
            if (scanners && (r.equals(GPT2) || r.equals(LLAMA3))) {
                steps.add(new Step(r, null, false));
            } else if (usesClasses(r)) {
                steps.add(new Step(r, Pattern.compile(collapse(r)), true));
            } else {
                steps.add(new Step(r, Pattern.compile(toJava(r)), false));
            }
        }
    }

    /** The words of {@code text}, as strings of code points (not yet byte-encoded). */
    List<String> split(String text) {
        int[] cpts = text.codePoints().toArray();
        List<Integer> offsets = new ArrayList<>();
        if (cpts.length > 0) offsets.add(cpts.length);
        String collapsed = null;
        String plain = null;
        for (Step step : steps) {
            if (step.pattern == null) {
                offsets = step.source.equals(GPT2) ? gpt2(cpts, offsets) : llama3(cpts, offsets);
            } else if (step.collapsed) {
                if (collapsed == null) collapsed = collapsedText(cpts);
                offsets = regex(collapsed, null, step.pattern, offsets);
            } else {
                if (plain == null) plain = plainText(cpts);
                offsets = regex(plain, cpts, step.pattern, offsets);
            }
        }
        List<String> words = new ArrayList<>(offsets.size());
        int start = 0;
        for (int len : offsets) {
            words.add(new String(cpts, start, len));
            start += len;
        }
        return words;
    }

    private static boolean usesClasses(String regex) {
        for (String[] c : CLASSES) if (regex.contains(c[0])) return true;
        return false;
    }

    /** The regex with each Unicode class replaced by its stand-in plus its ASCII members. */
    static String collapse(String regex) {
        for (int i = 0; i < regex.length(); i++) {
            if (regex.charAt(i) >= 128) {
                throw new TokenizerException("regex mixes Unicode classes and non-ASCII characters, which llama.cpp does not support: " + regex);
            }
        }
        StringBuilder out = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '[' && (i == 0 || regex.charAt(i - 1) != '\\')) {
                out.append('[');
                inside = true;
                continue;
            }
            if (inside && c == ']' && regex.charAt(i - 1) != '\\') {
                out.append(']');
                inside = false;
                continue;
            }
            if (c == '\\' && i + 3 < regex.length() && regex.charAt(i + 1) == 'p' && regex.charAt(i + 2) == '{') {
                int close = regex.indexOf('}', i + 3);
                if (close >= 0 && close <= i + 10) {
                    String name = regex.substring(i, close + 1);
                    String[] cls = classOf(name);
                    if (cls != null) {
                        if (!inside) out.append('[');
                        out.append(cls[1]).append(cls[2]);
                        if (!inside) out.append(']');
                        i = close;
                        continue;
                    }
                }
            }
            out.append(c);
        }
        return toJava(out.toString());
    }

    private static String[] classOf(String name) {
        for (String[] c : CLASSES) if (c[0].equals(name)) return c;
        return null;
    }

    /**
     * ECMAScript regex syntax (what std::regex runs) to Java's: only {@code $} differs for the
     * regexes used here, since Java's also matches before a final line break.
     */
    private static String toJava(String regex) {
        StringBuilder out = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                out.append(c).append(regex.charAt(++i));
                continue;
            }
            if (c == '[') inside = true;
            else if (c == ']') inside = false;
            if (c == '$' && !inside) out.append("\\z");
            else out.append(c);
        }
        return out.toString();
    }

    /** One char per code point: ASCII as itself, non-ASCII as the stand-in of its class. */
    private static String collapsedText(int[] cpts) {
        char[] out = new char[cpts.length];
        for (int i = 0; i < cpts.length; i++) {
            int cp = cpts[i];
            if (cp < 128) { out[i] = (char) cp; continue; }
            int flags = CodepointFlags.of(cp);
            if ((flags & CodepointFlags.WHITESPACE) != 0) { out[i] = 0x0B; continue; } // std::regex's \s knows only ASCII
            out[i] = switch (flags & 0xFF) {
                case CodepointFlags.NUMBER -> '\u00D1';
                case CodepointFlags.LETTER -> '\u00D2';
                case CodepointFlags.PUNCTUATION -> '\u00D3';
                case CodepointFlags.ACCENT_MARK -> '\u00D4';
                case CodepointFlags.SYMBOL -> '\u00D5';
                default -> COLLAPSED_OTHER;
            };
        }
        return new String(out);
    }

    /** The text itself, with non-ASCII whitespace as a vertical tab so that {@code \s} sees it (as llama.cpp's wregex path). */
    private static String plainText(int[] cpts) {
        StringBuilder sb = new StringBuilder(cpts.length);
        for (int cp : cpts) sb.appendCodePoint(cp > 0x7F && CodepointFlags.isWhitespace(cp) ? 0x0B : cp);
        return sb.toString();
    }

    /**
     * Splits every piece by the matches of one regex (as std::regex_iterator over the piece):
     * each match is a piece and so is any text between matches. {@code cpts} is non-null when the
     * string has surrogate pairs to count as one code point.
     */
    private static List<Integer> regex(String s, int[] cpts, Pattern p, List<Integer> offsets) {
        boolean wide = cpts != null && s.length() != cpts.length;
        int[] charAt = null; // code point index -> char index
        if (wide) {
            charAt = new int[cpts.length + 1];
            for (int i = 0, c = 0; i < cpts.length; i++) { charAt[i] = c; c += Character.charCount(cpts[i]); }
            charAt[cpts.length] = s.length();
        }
        List<Integer> out = new ArrayList<>(offsets.size());
        Matcher m = p.matcher(s);
        int start = 0;
        for (int len : offsets) {
            int from = wide ? charAt[start] : start;
            int to = wide ? charAt[start + len] : start + len;
            m.region(from, to);
            int prev = from;
            while (m.find()) {
                if (m.end() == m.start()) { // std::regex_iterator steps past empty matches
                    if (m.end() >= to) break;
                    m.region(m.end() + 1, to);
                    continue;
                }
                if (m.start() > prev) out.add(count(s, prev, m.start(), wide));
                out.add(count(s, m.start(), m.end(), wide));
                prev = m.end();
            }
            if (prev < to) out.add(count(s, prev, to, wide));
            start += len;
        }
        return out;
    }

    private static int count(String s, int from, int to, boolean wide) {
        return wide ? s.codePointCount(from, to) : to - from;
    }

    // --- llama.cpp's hand-written scanners -------------------------------------------------

    /** A scanner's view of one piece: code points and flags inside it, nothing outside. */
    private static final class Piece {
        final int[] cpts;
        final int ini, end;
        final List<Integer> out;
        int prevEnd;

        Piece(int[] cpts, int ini, int end, List<Integer> out) {
            this.cpts = cpts; this.ini = ini; this.end = end; this.out = out; this.prevEnd = ini;
        }

        int cpt(int pos) { return pos >= ini && pos < end ? cpts[pos] : -1; }

        int flags(int pos) { return pos >= ini && pos < end ? CodepointFlags.of(cpts[pos]) : 0; }

        /** Ends a word at {@code e}; returns its length. */
        int add(int e) {
            int len = e - prevEnd;
            if (len > 0) out.add(len);
            prevEnd = e;
            return len;
        }
    }

    private static final int L = CodepointFlags.LETTER, N = CodepointFlags.NUMBER, WS = CodepointFlags.WHITESPACE;

    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}, as unicode_regex_split_custom_gpt2. */
    private static List<Integer> gpt2(int[] cpts, List<Integer> offsets) {
        List<Integer> out = new ArrayList<>(offsets.size());
        int start = 0;
        for (int len : offsets) {
            Piece t = new Piece(cpts, start, start + len, out);
            start += len;
            for (int pos = t.ini; pos < t.end; ) {
                int cpt = t.cpt(pos);
                int flags = t.flags(pos);
                if (cpt == '\'' && pos + 1 < t.end) {
                    int next = t.cpt(pos + 1);
                    if (next == 's' || next == 't' || next == 'm' || next == 'd') { pos += t.add(pos + 2); continue; }
                    if (pos + 2 < t.end) {
                        int next2 = t.cpt(pos + 2);
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) { pos += t.add(pos + 3); continue; }
                    }
                }
                int flags2 = cpt == ' ' ? t.flags(pos + 1) : flags;
                if ((flags2 & L) != 0) {
                    if (cpt == ' ') pos++;
                    while ((flags2 & L) != 0) flags2 = t.flags(++pos);
                    t.add(pos);
                    continue;
                }
                if ((flags2 & N) != 0) {
                    if (cpt == ' ') pos++;
                    while ((flags2 & N) != 0) flags2 = t.flags(++pos);
                    t.add(pos);
                    continue;
                }
                if ((flags2 & (WS | L | N)) == 0 && flags2 != 0) {
                    if (cpt == ' ') pos++;
                    while ((flags2 & (WS | L | N)) == 0 && flags2 != 0) flags2 = t.flags(++pos);
                    t.add(pos);
                    continue;
                }
                int spaces = 0;
                while ((t.flags(pos + spaces) & WS) != 0) spaces++;
                if (spaces > 1 && t.cpt(pos + spaces) != -1) { pos += spaces - 1; t.add(pos); continue; }
                if (spaces > 0) { pos += spaces; t.add(pos); continue; }
                t.add(++pos);
            }
        }
        return out;
    }

    /** The Llama 3 regex (see {@link #LLAMA3}), as unicode_regex_split_custom_llama3. */
    private static List<Integer> llama3(int[] cpts, List<Integer> offsets) {
        List<Integer> out = new ArrayList<>(offsets.size());
        int start = 0;
        for (int len : offsets) {
            Piece t = new Piece(cpts, start, start + len, out);
            start += len;
            for (int pos = t.ini; pos < t.end; ) {
                int cpt = t.cpt(pos);
                int flags = t.flags(pos);
                if (cpt == '\'' && pos + 1 < t.end) {
                    int next = lower(t.cpt(pos + 1));
                    if (next == 's' || next == 't' || next == 'm' || next == 'd') { pos += t.add(pos + 2); continue; }
                    if (pos + 2 < t.end) {
                        int next2 = lower(t.cpt(pos + 2));
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) { pos += t.add(pos + 3); continue; }
                    }
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cpt == '\r' || cpt == '\n' || (flags & N) != 0)) {
                    if ((flags & L) != 0 || (t.flags(pos + 1) & L) != 0) {
                        pos++;
                        while ((t.flags(pos) & L) != 0) pos++;
                        t.add(pos);
                        continue;
                    }
                }
                // \p{N}{1,3}
                if ((flags & N) != 0) {
                    int ini = pos;
                    while ((t.flags(pos) & N) != 0) {
                        if (++pos - ini >= 3) { t.add(pos); ini = pos; }
                    }
                    t.add(pos);
                    continue;
                }
                // <space>?[^\s\p{L}\p{N}]+[\r\n]*
                int flags2 = cpt == ' ' ? t.flags(pos + 1) : flags;
                if ((flags2 & (WS | L | N)) == 0 && flags != 0) {
                    if (cpt == ' ') pos++;
                    while ((flags2 & (WS | L | N)) == 0 && flags2 != 0) flags2 = t.flags(++pos);
                    int cpt2 = t.cpt(pos);
                    while (cpt2 == '\r' || cpt2 == '\n') cpt2 = t.cpt(++pos);
                    t.add(pos);
                    continue;
                }
                int spaces = 0;
                int lastLineBreakEnd = 0;
                while ((t.flags(pos + spaces) & WS) != 0) {
                    int cpt2 = t.cpt(pos + spaces);
                    if (cpt2 == '\r' || cpt2 == '\n') lastLineBreakEnd = pos + spaces + 1;
                    spaces++;
                }
                if (lastLineBreakEnd > 0) { pos = lastLineBreakEnd; t.add(pos); continue; }
                if (spaces > 1 && t.cpt(pos + spaces) != -1) { pos += spaces - 1; t.add(pos); continue; }
                if (spaces > 0) { pos += spaces; t.add(pos); continue; }
                t.add(++pos);
            }
        }
        return out;
    }

    private static int lower(int cp) { return cp < 0 ? cp : Character.toLowerCase(cp); }
}
