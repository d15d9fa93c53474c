package dev.pcwmesh.eval;

import java.util.List;

/**
 * One strategy on one sample.
 *
 * @param length         the document's length in windows (the configured multiple)
 * @param depth          the key fact's depth, percent
 * @param documentTokens the document's measured length
 * @param reply          what the model generated
 * @param ttftNanos      time to first token: planning (encoding every window) and the prefill of the question
 * @param kvBytes        keys and values the plan holds
 * @param tokensEncoded  tokens the strategy ran through the model to build the plan
 * @param note           the plan's note (for example that sequential truncated the document), or empty
 */
public record SampleResult(String strategy, int length, int depth, int sample, int documentTokens, int windows,
                           List<String> expected, String reply, boolean correct,
                           long ttftNanos, long kvBytes, long tokensEncoded, String note) {}
