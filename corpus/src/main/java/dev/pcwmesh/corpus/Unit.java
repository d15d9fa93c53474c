package dev.pcwmesh.corpus;

import java.util.List;

/**
 * What the mixer samples and the packer packs: one holistic document, an aggregate of related short
 * documents joined in order, or a short document that found no company. {@code tokens} is the content
 * without BOS and EOS, which the packer adds.
 */
public record Unit(String id, String domain, Kind kind, List<String> documents, int[] tokens) {

    public enum Kind {
        /** one coherent long text */
        HOLISTIC,
        /** several related short texts joined into one sequence, in order */
        AGGREGATE,
        /** a short text alone: downsampled as the recipe downsamples short documents */
        SHORT;

        public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** Tokens once packed: the content plus BOS and EOS where the tokenizer has them. */
    public int packedLength(int specials) {
        return tokens.length + specials;
    }
}
