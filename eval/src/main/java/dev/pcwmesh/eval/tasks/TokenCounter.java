package dev.pcwmesh.eval.tasks;

import dev.pcwmesh.runtime.tokenizer.Tokenizer;

/** How long a text is in a model's tokens: task lengths are measured in the tokens the model will see. */
@FunctionalInterface
public interface TokenCounter {
    int count(String text);

    /** Tokens of the text alone (no BOS, no EOS), as the {@code Chunker} will cut it. */
    static TokenCounter of(Tokenizer tokenizer) {
        return text -> tokenizer.encode(text, false, false).length;
    }
}
