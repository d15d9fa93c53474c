package dev.pcwmesh.corpus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Heuristic rules that keep messy text out of training data, each with its own {@link Rejection.Reason}.
 * The rules run in a fixed order (the most specific first), and the first that fires names the reason:
 * too short, encoding garbage, tables of numbers, extreme line lengths, letter ratio, repeated lines,
 * repeated n-grams, boilerplate. {@link #measure} gives every statistic, so a test can show where the
 * thresholds sit between clean and messy text.
 */
public final class MessyTextFilter {
    private static final Pattern WORD_SPLIT = Pattern.compile("\\s+");
    private static final Pattern FIELD_SPLIT = Pattern.compile("[\\s|,;]+");
    private static final Pattern NUMBER = Pattern.compile("[-+(]?[$€£]?[0-9][0-9.,:/%)-]*[%kKmMbB]?");
    /** Lines of navigation, cookie and consent banners, sharing and legal footers (matched case-insensitively). */
    private static final Pattern BOILERPLATE = Pattern.compile(
            "(?i).*(\\bcookies?\\b|accept all|privacy (policy|settings|notice)|terms (of (use|service)|and conditions)"
                    + "|all rights reserved|©|\\(c\\) \\d{4}|skip to (main )?content|sign (in|up)\\b|log ?in\\b|subscribe|newsletter"
                    + "|share (on|this)|follow us|back to top|javascript|enable js|read more|click here|powered by"
                    + "|\\bmenu\\b|home\\s*[|>»/·]|\\|\\s*(about|contact|blog|help)\\b).*");

    /** The statistics the rules compare with their thresholds. */
    public record Stats(int words, double garbageRatio, double letterRatio, double alphaWordRatio, double dupLineCharRatio,
                        double topBigramRatio, double dupNgramRatio, double boilerplateRatio, double numericLineRatio,
                        int lines, int medianLineChars, int longestRun) {}

    private final FilterSettings settings;

    public MessyTextFilter(FilterSettings settings) {
        this.settings = settings;
    }

    public FilterSettings settings() { return settings; }

    /** Null when the text is clean, else why it is not. */
    public Rejection check(String text) {
        Stats s = measure(text);
        FilterSettings f = settings;
        if (s.words() < f.minWords()) return Rejection.of(Rejection.Reason.TOO_SHORT, s.words() + " words < " + f.minWords());
        if (s.garbageRatio() > f.maxGarbageRatio()) return Rejection.of(Rejection.Reason.ENCODING_GARBAGE,
                fmt("replacement, control or mojibake characters %.4f > %.4f", s.garbageRatio(), f.maxGarbageRatio()));
        if (s.numericLineRatio() > f.maxNumericLineRatio()) return Rejection.of(Rejection.Reason.NUMERIC_TABLE,
                fmt("characters in numeric lines %.2f > %.2f", s.numericLineRatio(), f.maxNumericLineRatio()));
        if (s.lines() >= 10 && s.medianLineChars() < f.minMedianLineChars()) return Rejection.of(Rejection.Reason.LINE_LENGTH,
                "median line of " + s.medianLineChars() + " characters < " + f.minMedianLineChars());
        if (s.longestRun() > f.maxRunChars()) return Rejection.of(Rejection.Reason.LINE_LENGTH,
                "a run of " + s.longestRun() + " characters without a space > " + f.maxRunChars());
        if (s.letterRatio() < f.minLetterRatio()) return Rejection.of(Rejection.Reason.LOW_LETTER_RATIO,
                fmt("letters per non-space character %.2f < %.2f", s.letterRatio(), f.minLetterRatio()));
        if (s.alphaWordRatio() < f.minAlphaWordRatio()) return Rejection.of(Rejection.Reason.LOW_LETTER_RATIO,
                fmt("words with a letter %.2f < %.2f", s.alphaWordRatio(), f.minAlphaWordRatio()));
        if (s.dupLineCharRatio() > f.maxDupLineCharRatio()) return Rejection.of(Rejection.Reason.REPEATED_LINES,
                fmt("characters in repeated lines %.2f > %.2f", s.dupLineCharRatio(), f.maxDupLineCharRatio()));
        if (s.topBigramRatio() > f.maxTopBigramRatio()) return Rejection.of(Rejection.Reason.REPEATED_NGRAMS,
                fmt("characters in the most frequent 2-gram %.2f > %.2f", s.topBigramRatio(), f.maxTopBigramRatio()));
        if (s.dupNgramRatio() > f.maxDupNgramRatio()) return Rejection.of(Rejection.Reason.REPEATED_NGRAMS,
                fmt("characters in repeated 5-grams %.2f > %.2f", s.dupNgramRatio(), f.maxDupNgramRatio()));
        if (s.boilerplateRatio() > f.maxBoilerplateRatio()) return Rejection.of(Rejection.Reason.BOILERPLATE,
                fmt("boilerplate lines %.2f > %.2f", s.boilerplateRatio(), f.maxBoilerplateRatio()));
        return null;
    }

    /** Every statistic of {@code text}. */
    public static Stats measure(String text) {
        int chars = 0, garbage = 0, nonSpace = 0, letters = 0, run = 0, longestRun = 0;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            int n = Character.charCount(c);
            chars++;
            if (c == 0xFFFD || (Character.isISOControl(c) && c != '\n' && c != '\t' && c != '\r') || isPrivateUse(c)) garbage++;
            else if ((c == 'Ã' || c == 'Â' || c == 'â') && i + n < text.length()) {
                int next = text.codePointAt(i + n);
                if ((next >= 0x80 && next <= 0xBF) || next == '€' || next == '™' || next == '©' || next == '¦' || next == '¤') garbage++;
            }
            if (Character.isWhitespace(c)) {
                run = 0;
            } else {
                nonSpace++;
                if (Character.isLetter(c)) letters++;
                longestRun = Math.max(longestRun, ++run);
            }
            i += n;
        }
        String[] words = text.isBlank() ? new String[0] : WORD_SPLIT.split(text.strip());
        int alphaWords = 0;
        long wordChars = 0;
        for (String w : words) {
            wordChars += w.length();
            for (int i = 0; i < w.length(); i++) if (Character.isLetter(w.charAt(i))) { alphaWords++; break; }
        }

        // Lines.
        List<String> lines = new ArrayList<>();
        for (String l : text.split("\n", -1)) if (!l.isBlank()) lines.add(l.strip());
        int[] lengths = lines.stream().mapToInt(String::length).sorted().toArray();
        int median = lengths.length == 0 ? 0 : lengths[lengths.length / 2];
        Set<String> seen = new HashSet<>();
        long longLineChars = 0, dupLineChars = 0, numericChars = 0, lineChars = 0;
        int boilerplate = 0;
        for (String l : lines) {
            lineChars += l.length();
            if (l.length() >= 20) {
                longLineChars += l.length();
                if (!seen.add(l)) dupLineChars += l.length();
            }
            if (isNumeric(l)) numericChars += l.length();
            if (l.length() < 200 && BOILERPLATE.matcher(l).matches()) boilerplate++;
        }

        // Word n-grams (lower case, punctuation kept: Gopher's rules count characters of words).
        String[] lw = new String[words.length];
        for (int i = 0; i < words.length; i++) lw[i] = words[i].toLowerCase(Locale.ROOT);
        double topBigram = 0;
        if (lw.length >= 2) {
            Map<String, Integer> counts = new HashMap<>();
            for (int i = 0; i + 1 < lw.length; i++) counts.merge(lw[i] + ' ' + lw[i + 1], 1, Integer::sum);
            String top = null;
            int best = 0;
            for (var e : counts.entrySet()) if (e.getValue() > best || (e.getValue() == best && e.getKey().compareTo(top) < 0)) { best = e.getValue(); top = e.getKey(); }
            if (best > 1) topBigram = (double) best * (top.length() - 1) / Math.max(1, wordChars);
        }
        double dupNgram = 0;
        if (lw.length >= 5) {
            boolean[] covered = new boolean[lw.length];
            Set<String> grams = new HashSet<>();
            for (int i = 0; i + 5 <= lw.length; i++) {
                String g = String.join(" ", Arrays.copyOfRange(lw, i, i + 5));
                if (!grams.add(g)) for (int k = i; k < i + 5; k++) covered[k] = true;
            }
            long dup = 0;
            for (int i = 0; i < lw.length; i++) if (covered[i]) dup += lw[i].length();
            dupNgram = (double) dup / Math.max(1, wordChars);
        }
        return new Stats(words.length, chars == 0 ? 0 : (double) garbage / chars, nonSpace == 0 ? 0 : (double) letters / nonSpace,
                words.length == 0 ? 0 : (double) alphaWords / words.length,
                longLineChars == 0 ? 0 : (double) dupLineChars / longLineChars, topBigram, dupNgram,
                lines.isEmpty() ? 0 : (double) boilerplate / lines.size(), lineChars == 0 ? 0 : (double) numericChars / lineChars,
                lines.size(), median, longestRun);
    }

    /** A line of at least two fields, at least 60 % of them numbers. */
    static boolean isNumeric(String line) {
        String[] fields = Arrays.stream(FIELD_SPLIT.split(line.strip())).filter(f -> !f.isEmpty()).toArray(String[]::new);
        if (fields.length < 2) return false;
        int numbers = 0;
        for (String f : fields) if (NUMBER.matcher(f).matches()) numbers++;
        return numbers >= 0.6 * fields.length;
    }

    private static boolean isPrivateUse(int c) {
        return Character.getType(c) == Character.PRIVATE_USE || Character.getType(c) == Character.UNASSIGNED || Character.getType(c) == Character.SURROGATE;
    }

    private static String fmt(String f, Object... args) {
        return String.format(Locale.ROOT, f, args);
    }
}
