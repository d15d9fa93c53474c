package dev.pcwmesh.corpus;

import dev.pcwmesh.runtime.tokenizer.Tokenizer;

/**
 * What happens to each document before mixing, the same in {@code pcw corpus} and the Kafka stage:
 * the messy-text filter, tokenizing with the target model's tokenizer, the optional perplexity check,
 * near-duplicate removal, the domain tag and the holistic / aggregable class.
 */
public final class Preparer {

    /** A document that survived: its domain, content tokens and class. */
    public record Prepared(Document doc, String domain, int[] tokens, Classifier.Kind kind) {}

    /** The outcome: exactly one of {@code prepared} and {@code rejection} is set. */
    public record Outcome(Prepared prepared, Rejection rejection, String domain) {}

    private final MessyTextFilter filter;
    private final Tokenizer tokenizer;
    private final PerplexityFilter perplexity;
    private final NearDuplicates duplicates;
    private final DomainTagger tagger;
    private final Classifier classifier;

    public Preparer(MessyTextFilter filter, Tokenizer tokenizer, PerplexityFilter perplexity, NearDuplicates duplicates,
                    DomainTagger tagger, Classifier classifier) {
        this.filter = filter;
        this.tokenizer = tokenizer;
        this.perplexity = perplexity;
        this.duplicates = duplicates;
        this.tagger = tagger;
        this.classifier = classifier;
    }

    /** The preparer {@code settings} describe, with the target model's tokenizer and an optional perplexity check. */
    public static Preparer from(CorpusSettings settings, Tokenizer tokenizer, PerplexityFilter perplexity) {
        NearDuplicates dups = settings.dedup()
                ? new NearDuplicates(new MinHash(128, 5, settings.seed()), 16, settings.dedupThreshold(), settings.dedupCapacity()) : null;
        return new Preparer(new MessyTextFilter(settings.filter()), tokenizer, perplexity, dups,
                DomainTagger.parse(settings.domainRules()), new Classifier(settings.longMinTokens(), settings.topicalMin() > 0));
    }

    public Tokenizer tokenizer() { return tokenizer; }

    public Outcome prepare(Document doc) {
        String domain = tagger.domain(doc);
        Rejection r = filter.check(doc.text());
        if (r != null) return new Outcome(null, r, domain);
        int[] tokens = tokenizer.encode(doc.text(), false, false);
        if (perplexity != null) {
            r = perplexity.check(tokens);
            if (r != null) return new Outcome(null, r, domain);
        }
        if (duplicates != null) {
            NearDuplicates.Match m = duplicates.offer(doc.id(), doc.text());
            if (m != null) return new Outcome(null, Rejection.of(Rejection.Reason.NEAR_DUPLICATE,
                    String.format(java.util.Locale.ROOT, "of %s (estimated Jaccard %.2f)", m.id(), m.similarity())), domain);
        }
        return new Outcome(new Prepared(doc, domain, tokens, classifier.classify(doc, tokens.length)), null, domain);
    }
}
