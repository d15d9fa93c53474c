package dev.pcwmesh.langchain4j;

/**
 * An answer's text as a chat reply: the generator's continuation without the whitespace that
 * joins it to the prompt (the space after {@code "Answer:"}) and the whitespace that ends it (the
 * newline before the end token), i.e. {@code String.strip()} of the whole. The generator renders an
 * assistant turn of a conversation as a space and its text, so a stripped reply stored in chat
 * memory goes back in the form the model saw it in.
 *
 * <p>Streaming releases text as it arrives except whitespace at the end, which is held back until
 * more text follows it; so the pieces released always add up to the stripped whole.
 */
final class AnswerText {
    private final StringBuilder released = new StringBuilder();
    private final StringBuilder held = new StringBuilder();

    /** Adds a piece of the continuation; returns what can be released now (possibly empty). */
    String add(String piece) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < piece.length(); ) {
            int c = piece.codePointAt(i);
            i += Character.charCount(c);
            if (!Character.isWhitespace(c)) {
                out.append(held).appendCodePoint(c);
                held.setLength(0);
            } else if (!released.isEmpty() || !out.isEmpty()) {
                held.appendCodePoint(c);
            }
        }
        released.append(out);
        return out.toString();
    }

    /** Everything released: the stripped answer so far (whole once the answer has ended). */
    String text() {
        return released.toString();
    }
}
