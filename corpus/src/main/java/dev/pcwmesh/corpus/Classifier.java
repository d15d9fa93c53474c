package dev.pcwmesh.corpus;

/**
 * Holistic or aggregable: a document of at least {@code holisticMinTokens} tokens is one coherent long
 * text and stays whole; a shorter one with a group (a directory, a thread, a book's sections), or any
 * shorter one when topical neighbours are joined, is aggregable; the rest are short texts alone.
 */
public record Classifier(int holisticMinTokens, boolean topical) {

    public enum Kind { HOLISTIC, AGGREGABLE, ALONE }

    public Kind classify(Document d, int tokens) {
        if (tokens >= holisticMinTokens) return Kind.HOLISTIC;
        if ((d.group() != null && !d.group().isBlank()) || topical) return Kind.AGGREGABLE;
        return Kind.ALONE;
    }
}
