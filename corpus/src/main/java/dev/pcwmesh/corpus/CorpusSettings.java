package dev.pcwmesh.corpus;

import java.util.List;
import java.util.Map;

/**
 * Everything a corpus run is configured with. {@link #defaults(int)} gives the recipe's values (Fu et
 * al. 2024): units under 4,096 tokens kept with probability 0.1, the input's own domain mix, near
 * duplicates at an estimated Jaccard similarity of 0.8 removed.
 *
 * @param sequenceLength    tokens per packed sequence (default: the model's trained context length)
 * @param filter            the messy-text filter's thresholds
 * @param maxPerplexity     the most perplexity a document's sample may have under the model, or null for no check
 * @param perplexitySample  tokens in that sample
 * @param dedup             whether near duplicates are removed
 * @param dedupThreshold    estimated Jaccard similarity from which a document is a near duplicate
 * @param dedupCapacity     kept documents the near-duplicate index remembers (the oldest are forgotten beyond it)
 * @param longMinTokens     packed length from which a unit is long (never downsampled); also the holistic threshold
 * @param shortKeep         probability of keeping a shorter unit
 * @param topicalMin        joins ungrouped short documents whose word sets are alike at least this much (0: off)
 * @param mix               the target domain mix (domain → share), or null for the input's own
 * @param budget            output tokens wanted, or null for as many as the mix allows
 * @param seed              the run's seed: the same seed, input and settings give the same output, byte for byte
 * @param mask              whether to write {@code mask.bin} (each token's document segment in its sequence)
 * @param maxBufferedTokens tokens of short documents that may wait for aggregation before the fullest group is let out
 * @param domainRules       {@code DOMAIN=REGEX} rules matched against each document's source
 * @param fields            JSONL field names
 */
public record CorpusSettings(int sequenceLength, FilterSettings filter, Double maxPerplexity, int perplexitySample,
                             boolean dedup, double dedupThreshold, int dedupCapacity, int longMinTokens, double shortKeep,
                             double topicalMin, Map<String, Double> mix, Long budget, long seed, boolean mask,
                             long maxBufferedTokens, List<String> domainRules, JsonlSource.Fields fields) {

    public static final int LONG_MIN_TOKENS = 4096;
    public static final double SHORT_KEEP = 0.1;

    public static CorpusSettings defaults(int sequenceLength) {
        return new CorpusSettings(sequenceLength, FilterSettings.defaults(), null, 256, true, 0.8, 250_000,
                LONG_MIN_TOKENS, SHORT_KEEP, 0, null, null, 1, false, 16_000_000, List.of(), JsonlSource.Fields.defaults());
    }

    public CorpusSettings {
        if (sequenceLength < 16) throw new IllegalArgumentException("the sequence length must be at least 16 tokens, got " + sequenceLength);
        if (shortKeep < 0 || shortKeep > 1) throw new IllegalArgumentException("the short-unit keep probability must be in [0, 1], got " + shortKeep);
        if (dedupThreshold <= 0 || dedupThreshold > 1) throw new IllegalArgumentException("the near-duplicate threshold must be in (0, 1], got " + dedupThreshold);
        if (budget != null && budget < 0) throw new IllegalArgumentException("the budget must not be negative");
        mix = mix == null ? null : Map.copyOf(mix);
        domainRules = List.copyOf(domainRules);
    }

    public CorpusSettings withLengths(int longMin, double keep) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMin, keep, topicalMin, mix, budget, seed, mask, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withMix(Map<String, Double> m, Long b) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, m, b, seed, mask, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withSeed(long s) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, mix, budget, s, mask, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withMask(boolean m) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, mix, budget, seed, m, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withTopical(double min) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, min, mix, budget, seed, mask, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withPerplexity(Double max, int sample) {
        return new CorpusSettings(sequenceLength, filter, max, sample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, mix, budget, seed, mask, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withDedup(boolean on, double threshold) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, on, threshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, mix, budget, seed, mask, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withFilter(FilterSettings f) {
        return new CorpusSettings(sequenceLength, f, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, mix, budget, seed, mask, maxBufferedTokens, domainRules, fields);
    }

    public CorpusSettings withDomainRules(List<String> rules) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, mix, budget, seed, mask, maxBufferedTokens, rules, fields);
    }

    public CorpusSettings withFields(JsonlSource.Fields f) {
        return new CorpusSettings(sequenceLength, filter, maxPerplexity, perplexitySample, dedup, dedupThreshold, dedupCapacity,
                longMinTokens, shortKeep, topicalMin, mix, budget, seed, mask, maxBufferedTokens, domainRules, f);
    }
}
