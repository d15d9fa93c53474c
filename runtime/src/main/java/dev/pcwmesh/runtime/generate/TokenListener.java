package dev.pcwmesh.runtime.generate;

/** Receives generated tokens as they come. */
@FunctionalInterface
public interface TokenListener {
    /**
     * Called once per generated token. {@code text} is the text this token completed: empty while
     * a UTF-8 character is split across tokens or while the text might be the start of a stop
     * string, and possibly longer than one token's text when held-back text is released.
     * Text still held when generation ends arrives in a last call with {@code token = -1}.
     */
    void onToken(int token, String text);

    TokenListener NONE = (token, text) -> { };
}
