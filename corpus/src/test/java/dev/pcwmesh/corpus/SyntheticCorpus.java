package dev.pcwmesh.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generated documents for the tests: clean ones in several styles (prose, dialogue, Markdown, a report
 * with a small table, verse, a web article with a line or two of boilerplate) and messy ones of every
 * kind the filter knows, each labelled with the reason it should be rejected for. One seed, one corpus.
 */
final class SyntheticCorpus {
    /** A generated text with its label: null when clean, else the reason it should be rejected for. */
    record Labelled(String text, Rejection.Reason expected, String style) {}

    private static final String[] FUNCTION = {"the", "of", "and", "a", "to", "in", "was", "that", "for", "on", "with", "as", "by", "at", "from", "it", "his", "her", "their"};
    private static final String[] ONSETS = {"b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "st", "tr", "pl", "gr", "sh", "th"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u", "ea", "ou", "ai", "io"};
    private static final String[] CODAS = {"", "", "n", "r", "s", "t", "l", "nd", "st", "m", "ck"};
    static final List<String> MESSY_STYLES = List.of("garbage", "symbols", "repeated-lines", "repeated-ngrams", "boilerplate", "numbers", "one-word-lines", "blob");
    static final List<String> CLEAN_STYLES = List.of("prose", "dialogue", "markdown", "report", "verse", "article");

    private final Random random;
    private final List<String> vocabulary = new ArrayList<>();

    SyntheticCorpus(long seed) {
        this.random = new Random(seed);
        for (int i = 0; i < 3000; i++) vocabulary.add(word());
    }

    private String word() {
        StringBuilder b = new StringBuilder();
        int syllables = 1 + random.nextInt(3);
        for (int s = 0; s < syllables; s++) {
            b.append(ONSETS[random.nextInt(ONSETS.length)]).append(VOWELS[random.nextInt(VOWELS.length)]).append(CODAS[random.nextInt(CODAS.length)]);
        }
        return b.toString();
    }

    /** A topic: a small set of words that documents about it draw from more often. */
    List<String> topic(int size) {
        List<String> t = new ArrayList<>();
        for (int i = 0; i < size; i++) t.add(vocabulary.get(random.nextInt(vocabulary.size())));
        return t;
    }

    String sentence(List<String> topic) {
        int n = 8 + random.nextInt(13);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String w;
            double r = random.nextDouble();
            if (r < 0.35) w = FUNCTION[random.nextInt(FUNCTION.length)];
            else if (topic != null && r < 0.6) w = topic.get(random.nextInt(topic.size()));
            else if (r >= 0.6 && r < 0.62) w = Integer.toString(1 + random.nextInt(2000));
            else w = vocabulary.get(random.nextInt(vocabulary.size()));
            if (i == 0) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            b.append(w);
            if (i < n - 1) b.append(random.nextDouble() < 0.08 ? ", " : " ");
        }
        return b.append(random.nextDouble() < 0.1 ? "?" : ".").toString();
    }

    String paragraph(List<String> topic, int sentences) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < sentences; i++) b.append(i > 0 ? " " : "").append(sentence(topic));
        return b.toString();
    }

    /** Prose of about {@code words} words in paragraphs. */
    String prose(List<String> topic, int words) {
        StringBuilder b = new StringBuilder();
        while (b.length() < words * 6) b.append(paragraph(topic, 3 + random.nextInt(4))).append("\n\n");
        return b.toString().strip();
    }

    Labelled clean(String style) {
        List<String> t = topic(40);
        String text = switch (style) {
            case "prose" -> prose(t, 150 + random.nextInt(400));
            case "dialogue" -> {
                StringBuilder b = new StringBuilder(paragraph(t, 2)).append("\n\n");
                for (int i = 0; i < 14; i++) {
                    String s = sentence(t);
                    b.append('"').append(s, 0, s.length() - 1).append(",\" said ").append(cap(vocabulary.get(random.nextInt(50)))).append(".\n");
                }
                yield b.toString();
            }
            case "markdown" -> {
                StringBuilder b = new StringBuilder("# ").append(cap(t.get(0))).append(' ').append(t.get(1)).append("\n\n");
                for (int s = 1; s <= 3; s++) {
                    b.append("## ").append(s).append(". ").append(cap(t.get(s + 1))).append("\n\n").append(paragraph(t, 4)).append("\n\n");
                    for (int i = 0; i < 3; i++) b.append("- ").append(sentence(t)).append('\n');
                    b.append('\n');
                }
                yield b.toString();
            }
            case "report" -> {
                StringBuilder b = new StringBuilder(paragraph(t, 5)).append("\n\n").append(paragraph(t, 5)).append("\n\n| quarter | units | change |\n|---|---|---|\n");
                for (int q = 1; q <= 4; q++) b.append("| Q").append(q).append(" | ").append(100 + random.nextInt(900)).append(" | ").append(random.nextInt(20)).append(".").append(random.nextInt(10)).append("% |\n");
                yield b.append('\n').append(paragraph(t, 5)).append("\n\n").append(paragraph(t, 4)).toString();
            }
            case "verse" -> {
                StringBuilder b = new StringBuilder();
                for (int st = 0; st < 5; st++) {
                    for (int l = 0; l < 4; l++) {
                        StringBuilder line = new StringBuilder();
                        int n = 4 + random.nextInt(4);
                        for (int i = 0; i < n; i++) line.append(i == 0 ? cap(pick(t)) : pick(t)).append(i < n - 1 ? " " : ",");
                        b.append(line).append('\n');
                    }
                    b.append('\n');
                }
                yield b.toString();
            }
            case "article" -> {
                StringBuilder b = new StringBuilder(cap(t.get(0))).append(' ').append(t.get(1)).append(" in ").append(cap(t.get(2))).append("\n\n");
                for (int i = 0; i < 10; i++) b.append(paragraph(t, 3 + random.nextInt(3))).append("\n\n");
                yield b.append("Share this article\n© 2024 The ").append(cap(t.get(3))).append(" Courier. All rights reserved.\n").toString();
            }
            default -> throw new IllegalArgumentException(style);
        };
        return new Labelled(text, null, style);
    }

    Labelled messy(String style) {
        List<String> t = topic(40);
        return switch (style) {
            case "garbage" -> {
                String p = prose(t, 200);
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < p.length(); i++) {
                    char c = p.charAt(i);
                    if (c == 'e' && random.nextDouble() < 0.15) b.append(random.nextBoolean() ? "Ã©" : "\uFFFD");
                    else if (c == '\'' || (c == ' ' && random.nextDouble() < 0.02)) b.append("â€™");
                    else b.append(c);
                }
                yield new Labelled(b.toString(), Rejection.Reason.ENCODING_GARBAGE, style);
            }
            case "symbols" -> {
                StringBuilder b = new StringBuilder();
                String[] sym = {"####", "$$$", "@@", "=====", "***", "<<>>", "{}", "|||", "~~~", "%%"};
                for (int i = 0; i < 300; i++) b.append(random.nextDouble() < 0.6 ? sym[random.nextInt(sym.length)] : pick(t)).append(i % 12 == 11 ? "\n" : " ");
                yield new Labelled(b.toString(), Rejection.Reason.LOW_LETTER_RATIO, style);
            }
            case "repeated-lines" -> {
                List<String> lines = List.of(sentence(t), sentence(t), sentence(t));
                StringBuilder b = new StringBuilder(paragraph(t, 2)).append("\n");
                for (int i = 0; i < 12; i++) for (String l : lines) b.append(l).append('\n');
                yield new Labelled(b.toString(), Rejection.Reason.REPEATED_LINES, style);
            }
            case "repeated-ngrams" -> {
                String phrase = pick(t) + " " + pick(t) + " " + pick(t) + " " + pick(t) + " now";
                StringBuilder b = new StringBuilder(sentence(t)).append(' ');
                for (int i = 0; i < 40; i++) b.append(phrase).append(random.nextDouble() < 0.2 ? ". " : " ");
                yield new Labelled(b.append(sentence(t)).toString(), Rejection.Reason.REPEATED_NGRAMS, style);
            }
            case "boilerplate" -> {
                String site = cap(pick(t));
                String b = "Skip to content\nHome | About | Contact | Blog\nMenu\nSign in\n"
                        + "We use cookies to improve your experience. Accept all cookies or manage your privacy settings.\n"
                        + paragraph(t, 2) + "\nRead more\n" + paragraph(t, 2) + "\nRead more\n"
                        + "Subscribe to our newsletter\nFollow us on " + site + "\nPrivacy Policy\nTerms of Use\n"
                        + "© 2024 " + site + " Media. All rights reserved.\nBack to top\n";
                yield new Labelled(b, Rejection.Reason.BOILERPLATE, style);
            }
            case "numbers" -> {
                StringBuilder b = new StringBuilder("Table ").append(1 + random.nextInt(9)).append(": ").append(pick(t)).append(" by year\n");
                for (int r = 0; r < 40; r++) {
                    b.append(1980 + r);
                    for (int c = 0; c < 6; c++) b.append('\t').append(random.nextInt(10000)).append('.').append(random.nextInt(100));
                    b.append('\n');
                }
                yield new Labelled(b.toString(), Rejection.Reason.NUMERIC_TABLE, style);
            }
            case "one-word-lines" -> {
                StringBuilder b = new StringBuilder();
                for (String w : prose(t, 150).split("\\s+")) b.append(w).append('\n');
                yield new Labelled(b.toString(), Rejection.Reason.LINE_LENGTH, style);
            }
            case "blob" -> {
                StringBuilder blob = new StringBuilder();
                String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                for (int i = 0; i < 400 + random.nextInt(2000); i++) blob.append(alphabet.charAt(random.nextInt(alphabet.length())));
                yield new Labelled(paragraph(t, 3) + "\n\n" + blob + "\n\n" + paragraph(t, 2), Rejection.Reason.LINE_LENGTH, style);
            }
            default -> throw new IllegalArgumentException(style);
        };
    }

    /** {@code clean} clean documents (styles in turn) and {@code perKind} messy ones of each kind, shuffled. */
    List<Labelled> labelled(int clean, int perKind) {
        List<Labelled> out = new ArrayList<>();
        for (int i = 0; i < clean; i++) out.add(clean(CLEAN_STYLES.get(i % CLEAN_STYLES.size())));
        for (String s : MESSY_STYLES) for (int i = 0; i < perKind; i++) out.add(messy(s));
        java.util.Collections.shuffle(out, random);
        return out;
    }

    String pick(List<String> t) {
        return t.get(random.nextInt(t.size()));
    }

    Random random() { return random; }

    static String cap(String w) {
        return Character.toUpperCase(w.charAt(0)) + w.substring(1);
    }
}
