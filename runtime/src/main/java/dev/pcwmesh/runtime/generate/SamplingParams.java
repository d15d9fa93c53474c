package dev.pcwmesh.runtime.generate;

import java.util.List;

/**
 * How the next token is chosen and when generation stops.
 *
 * @param temperature       0 (or less) for greedy decoding; otherwise logits are divided by it
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set whose probability reaches p; 1 keeps all
 * @param minP              drop tokens less likely than minP times the most likely; 0 keeps all
 * @param repetitionPenalty divide positive (multiply negative) logits of recent tokens by it; 1 is off
 * @param repeatLastN       how many recent tokens (prompt included) the penalty looks at
 * @param seed              random seed for sampling
 * @param maxTokens         most new tokens
 * @param stopStrings       generation stops before the first of these appears in the text
 * @param stopAtEndOfGeneration stop at the tokenizer's end-of-generation tokens
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        int repeatLastN,
        long seed,
        int maxTokens,
        List<String> stopStrings,
        boolean stopAtEndOfGeneration) {

    public SamplingParams {
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be non-negative, got " + maxTokens);
        if (topK < 0) throw new IllegalArgumentException("topK must be non-negative, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("minP must be in [0, 1), got " + minP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetitionPenalty must be positive, got " + repetitionPenalty);
        if (repeatLastN < 0) throw new IllegalArgumentException("repeatLastN must be non-negative, got " + repeatLastN);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
    }

    /** Greedy decoding of at most {@code maxTokens}, stopping at end of generation. */
    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0L, maxTokens, List.of(), true);
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05. */
    public static SamplingParams defaults(int maxTokens, long seed) {
        return new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 64, seed, maxTokens, List.of(), true);
    }

    public boolean greedy() { return temperature <= 0; }

    public SamplingParams withTemperature(float t) { return new SamplingParams(t, topK, topP, minP, repetitionPenalty, repeatLastN, seed, maxTokens, stopStrings, stopAtEndOfGeneration); }
    public SamplingParams withTopK(int k) { return new SamplingParams(temperature, k, topP, minP, repetitionPenalty, repeatLastN, seed, maxTokens, stopStrings, stopAtEndOfGeneration); }
    public SamplingParams withTopP(float p) { return new SamplingParams(temperature, topK, p, minP, repetitionPenalty, repeatLastN, seed, maxTokens, stopStrings, stopAtEndOfGeneration); }
    public SamplingParams withMinP(float p) { return new SamplingParams(temperature, topK, topP, p, repetitionPenalty, repeatLastN, seed, maxTokens, stopStrings, stopAtEndOfGeneration); }
    public SamplingParams withRepetitionPenalty(float r) { return new SamplingParams(temperature, topK, topP, minP, r, repeatLastN, seed, maxTokens, stopStrings, stopAtEndOfGeneration); }
    public SamplingParams withSeed(long s) { return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repeatLastN, s, maxTokens, stopStrings, stopAtEndOfGeneration); }
    public SamplingParams withMaxTokens(int n) { return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repeatLastN, seed, n, stopStrings, stopAtEndOfGeneration); }
    public SamplingParams withStopStrings(List<String> s) { return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repeatLastN, seed, maxTokens, s, stopAtEndOfGeneration); }
    public SamplingParams withStopAtEndOfGeneration(boolean b) { return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repeatLastN, seed, maxTokens, stopStrings, b); }
}
