package dev.pcwmesh.corpus;

/**
 * Why a document was left out: a {@link Reason} and a detail for people (the measured value and the
 * threshold it crossed).
 */
public record Rejection(Reason reason, String detail) {

    /** Every reason a document can be left out for; each has its own count in the manifest. */
    public enum Reason {
        /** the source could not be read or extracted (invalid UTF-8, binary data, an unreadable PDF) */
        UNREADABLE,
        /** too few words to be worth a place in training data */
        TOO_SHORT,
        /** replacement characters, control characters, mojibake */
        ENCODING_GARBAGE,
        /** too few letters among the non-space characters, or words without letters */
        LOW_LETTER_RATIO,
        /** long lines repeated */
        REPEATED_LINES,
        /** n-grams repeated (spam, loops) */
        REPEATED_NGRAMS,
        /** navigation, cookie banners, share buttons, legal footers */
        BOILERPLATE,
        /** tables of numbers without prose */
        NUMERIC_TABLE,
        /** extreme line-length distributions: one word per line, or unbroken runs of characters */
        LINE_LENGTH,
        /** the model's own perplexity over a sample is above the configured maximum */
        HIGH_PERPLEXITY,
        /** a near duplicate (MinHash LSH) of a document already kept */
        NEAR_DUPLICATE;

        /** The lower-case name used on the command line and in files ({@code repeated-lines}). */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    public static Rejection of(Reason reason, String detail) {
        return new Rejection(reason, detail);
    }
}
