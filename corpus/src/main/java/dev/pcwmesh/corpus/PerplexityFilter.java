package dev.pcwmesh.corpus;

import dev.pcwmesh.runtime.generate.Perplexity;
import dev.pcwmesh.runtime.model.Model;

import java.util.Locale;

/**
 * The model's own perplexity over a sample of a document: {@code sampleTokens} tokens from the middle
 * of the document after BOS, scored by llama.cpp's method (the second half of the chunk). Above
 * {@code maxPerplexity} the document is rejected ({@code HIGH_PERPLEXITY}). Documents shorter than the
 * sample are scored whole when they have at least 16 tokens, else not at all.
 */
public final class PerplexityFilter {
    private final Model model;
    private final Perplexity perplexity;
    private final double maxPerplexity;
    private final int sampleTokens;

    public PerplexityFilter(Model model, double maxPerplexity, int sampleTokens) {
        this.model = model;
        this.perplexity = new Perplexity(model);
        this.maxPerplexity = maxPerplexity;
        this.sampleTokens = Math.min(sampleTokens, model.config().contextLength());
    }

    /** The perplexity of the sample of {@code tokens} (content, without BOS), or NaN when too short to score. */
    public double measure(int[] tokens) {
        int n = Math.min(sampleTokens - 1, tokens.length);
        if (n < 15) return Double.NaN;
        int from = (tokens.length - n) / 2;
        int bos = model.tokenizer().bos();
        int[] sample = new int[n + 1];
        sample[0] = bos >= 0 ? bos : tokens[from];
        System.arraycopy(tokens, from, sample, 1, n);
        return perplexity.compute(sample, sample.length, bos, null).perplexity();
    }

    /** Null when the sample's perplexity is at most the maximum (or the document too short to score). */
    public Rejection check(int[] tokens) {
        double p = measure(tokens);
        if (Double.isNaN(p) || p <= maxPerplexity) return null;
        return Rejection.of(Rejection.Reason.HIGH_PERPLEXITY, String.format(Locale.ROOT, "perplexity %.1f > %.1f over %d tokens",
                p, maxPerplexity, Math.min(sampleTokens, tokens.length + 1)));
    }
}
