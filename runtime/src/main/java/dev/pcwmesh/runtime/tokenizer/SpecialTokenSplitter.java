package dev.pcwmesh.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts raw text around special tokens written in it, as llama.cpp's
 * {@code tokenizer_st_partition}: for each special token, longest first, every occurrence inside
 * the text fragments not yet claimed becomes a token fragment. Control and unknown tokens are
 * matched only when {@code parseSpecial} is set; user-defined tokens always are (as Hugging Face's
 * added tokens), which is what gives neox-style vocabularies their runs-of-spaces tokens.
 */
final class SpecialTokenSplitter {

    /** Either a piece of text still to tokenize ({@code token == -1}) or one special token. */
    record Fragment(String text, int token) {
        boolean isText() { return token < 0; }
    }

    private SpecialTokenSplitter() {}

    static List<Fragment> split(Vocabulary vocab, String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) return fragments;
        fragments.add(new Fragment(text, -1));
        for (int id : vocab.specialTokens) {
            int attr = vocab.attrs[id];
            if (!parseSpecial && (attr & (Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_UNKNOWN)) != 0) continue;
            String special = vocab.pieces[id];
            List<Fragment> next = null;
            for (int f = 0; f < fragments.size(); f++) {
                Fragment frag = fragments.get(f);
                if (!frag.isText() || frag.text.indexOf(special) < 0) {
                    if (next != null) next.add(frag);
                    continue;
                }
                if (next == null) next = new ArrayList<>(fragments.subList(0, f));
                cut(frag.text, special, id, attr, next);
            }
            if (next != null) fragments = next;
        }
        return fragments;
    }

    private static void cut(String text, String special, int id, int attr, List<Fragment> out) {
        int from = 0;
        int end = text.length();
        while (from < end) {
            int match = text.indexOf(special, from);
            if (match < 0) {
                out.add(new Fragment(text.substring(from, end), -1));
                return;
            }
            int leftEnd = match;
            if ((attr & Vocabulary.ATTR_LSTRIP) != 0) {
                while (leftEnd > from && isCSpace(text.charAt(leftEnd - 1))) leftEnd--;
            }
            if (leftEnd > from) out.add(new Fragment(text.substring(from, leftEnd), -1));
            out.add(new Fragment(special, id));
            from = match + special.length();
            if ((attr & Vocabulary.ATTR_RSTRIP) != 0) {
                while (from < end && isCSpace(text.charAt(from))) from++;
            }
        }
    }

    /** C's isspace in the "C" locale, which llama.cpp uses for the strip attributes. */
    private static boolean isCSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }
}
