package dev.pcwmesh.runtime.tokenizer;

/**
 * The character classes llama.cpp's pre-tokenizers test ({@code unicode_cpt_flags}): its table
 * is generated from the Unicode general categories ({@code \p{N}}, {@code \p{L}}, ...) and the
 * White_Space property; here the categories come from {@link Character#getType(int)}. Every code
 * point has some category (unassigned ones count as control, {@code \p{C}}), so a zero result
 * only ever means "outside the text".
 */
final class CodepointFlags {
    static final int NUMBER = 0x0002;
    static final int LETTER = 0x0004;
    static final int SEPARATOR = 0x0008;
    static final int ACCENT_MARK = 0x0010;
    static final int PUNCTUATION = 0x0020;
    static final int SYMBOL = 0x0040;
    static final int CONTROL = 0x0080;
    static final int WHITESPACE = 0x0100;

    private CodepointFlags() {}

    static int of(int cp) {
        int category = switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> ACCENT_MARK;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION,
                 Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> SYMBOL;
            default -> CONTROL; // Cc, Cf, Co, Cs and unassigned Cn
        };
        return isWhitespace(cp) ? category | WHITESPACE : category;
    }

    static boolean is(int cp, int flag) { return (of(cp) & flag) != 0; }

    /** The Unicode White_Space property (what the generator's regex {@code \s} matched). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }
}
