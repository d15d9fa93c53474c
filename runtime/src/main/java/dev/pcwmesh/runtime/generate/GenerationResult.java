package dev.pcwmesh.runtime.generate;

/**
 * The outcome of one generation.
 *
 * @param tokens        the generated token ids (an end-of-generation token is not included)
 * @param text          the generated text, cut before a stop string
 * @param promptTokens  tokens prefilled
 * @param contextTokens tokens of the plan's segments the new tokens attended to
 * @param prefillNanos  time to first token: prefill and the first sample
 * @param decodeNanos   time of every later step
 */
public record GenerationResult(int[] tokens, String text, StopReason stopReason, int promptTokens, int contextTokens,
                               long prefillNanos, long decodeNanos) {

    /** Prompt tokens per second. */
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    /** Generated tokens per second after the first. */
    public double decodeTokensPerSecond() {
        return tokens.length <= 1 || decodeNanos == 0 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
    }
}
