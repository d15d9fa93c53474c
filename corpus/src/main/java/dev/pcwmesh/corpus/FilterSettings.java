package dev.pcwmesh.corpus;

/**
 * The messy-text filter's thresholds. The defaults sit between the worst clean document and the mildest
 * messy one of each kind in the labelled set that {@code MessyTextFilterTest} generates (the values are
 * in the README); the n-gram and duplicate-line limits are Gopher's quality rules (Rae et al. 2021).
 *
 * @param minWords             fewer words: {@code TOO_SHORT}
 * @param maxGarbageRatio      replacement, control and mojibake characters per character: above, {@code ENCODING_GARBAGE}
 * @param minLetterRatio       letters per non-space character: below, {@code LOW_LETTER_RATIO}
 * @param minAlphaWordRatio    words holding a letter per word: below, {@code LOW_LETTER_RATIO}
 * @param maxDupLineCharRatio  characters in lines (of at least 20 characters) seen before, per character in such lines: above, {@code REPEATED_LINES}
 * @param maxTopBigramRatio    characters in the most frequent word 2-gram, per word character: above, {@code REPEATED_NGRAMS}
 * @param maxDupNgramRatio     characters in word 5-grams seen before, per word character: above, {@code REPEATED_NGRAMS}
 * @param maxBoilerplateRatio  non-empty lines that are navigation, banners or legal notices: above, {@code BOILERPLATE}
 * @param maxNumericLineRatio  characters in lines mostly of numbers, per character: above, {@code NUMERIC_TABLE}
 * @param minMedianLineChars   median length of non-empty lines (documents of 10 lines or more): below, {@code LINE_LENGTH}
 * @param maxRunChars          longest run of characters without a space: above, {@code LINE_LENGTH}
 */
public record FilterSettings(int minWords, double maxGarbageRatio, double minLetterRatio, double minAlphaWordRatio,
                             double maxDupLineCharRatio, double maxTopBigramRatio, double maxDupNgramRatio,
                             double maxBoilerplateRatio, double maxNumericLineRatio, int minMedianLineChars, int maxRunChars) {

    public static FilterSettings defaults() {
        return new FilterSettings(20, 0.002, 0.75, 0.80, 0.20, 0.20, 0.15, 0.30, 0.40, 12, 200);
    }

    public FilterSettings withMinWords(int v) {
        return new FilterSettings(v, maxGarbageRatio, minLetterRatio, minAlphaWordRatio, maxDupLineCharRatio, maxTopBigramRatio,
                maxDupNgramRatio, maxBoilerplateRatio, maxNumericLineRatio, minMedianLineChars, maxRunChars);
    }
}
