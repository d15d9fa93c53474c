package dev.pcwmesh.runtime.tokenizer;

/** A tokenizer that cannot be built from a file, or input it cannot handle. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }
}
