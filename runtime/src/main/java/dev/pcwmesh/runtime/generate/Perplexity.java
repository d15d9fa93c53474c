package dev.pcwmesh.runtime.generate;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ForwardPass;

import java.util.Arrays;

/**
 * Perplexity by llama.cpp's method ({@code llama-perplexity}): the tokens are cut into
 * consecutive, non-overlapping chunks of {@code ctx} tokens; the first token of each chunk is
 * replaced by BOS (when the model adds one); only the second half of each chunk is scored, so
 * every scored token has at least {@code ctx/2} tokens of context.
 */
public final class Perplexity {

    /**
     * @param perplexity  exp of the mean negative log-likelihood
     * @param chunks      chunks evaluated
     * @param scored      tokens scored
     * @param chunkPerplexities the running perplexity after each chunk, as llama.cpp prints it
     */
    public record Result(double perplexity, int chunks, int scored, double[] chunkPerplexities, long nanos) {}

    /** Told after each chunk, with the perplexity over all chunks so far. */
    @FunctionalInterface
    public interface Progress {
        void chunkDone(int chunk, double runningPerplexity);
    }

    private final Model model;

    public Perplexity(Model model) {
        this.model = model;
    }

    /**
     * @param tokens   the whole text, tokenized (with BOS if the model adds one)
     * @param ctx      chunk length
     * @param bos      BOS id to put at the start of each chunk, or -1 to leave chunks as they are
     * @param progress told after each chunk, or null
     */
    public Result compute(int[] tokens, int ctx, int bos, Progress progress) {
        if (ctx < 4) throw new IllegalArgumentException("ctx must be at least 4, got " + ctx);
        int chunks = tokens.length / ctx;
        if (chunks == 0) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens, fewer than one chunk of " + ctx
                    + "; use a longer text or a smaller --ctx");
        }
        long start = System.nanoTime();
        try (ForwardPass transformer = ForwardPass.of(model)) {
            return compute(transformer, tokens, ctx, bos, progress, chunks, start);
        }
    }

    private Result compute(ForwardPass transformer, int[] tokens, int ctx, int bos, Progress progress, int chunks, long start) {
        KvCache cache = new KvCache(model.config().layers(), model.config().kvDim(), ctx, false);
        int[] positions = new int[ctx];
        for (int i = 0; i < ctx; i++) positions[i] = i;
        int first = ctx / 2;
        Attention attention = ContextPlan.empty(model, 0).attention();
        double nll = 0;
        int scored = 0;
        double[] running = new double[chunks];
        for (int c = 0; c < chunks; c++) {
            int[] chunk = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            if (bos >= 0) chunk[0] = bos;
            cache.truncate(0);
            double[] chunkNll = new double[1];
            int[] chunkCount = new int[1];
            // Row j predicts token j+1; rows first .. ctx-2 are scored.
            transformer.forward(chunk, positions, attention, cache, first, (row, logits) -> {
                if (row >= ctx - 1) return;
                chunkNll[0] -= logSoftmaxAt(logits, chunk[row + 1]);
                chunkCount[0]++;
            });
            nll += chunkNll[0];
            scored += chunkCount[0];
            running[c] = Math.exp(nll / scored);
            if (progress != null) progress.chunkDone(c, running[c]);
        }
        return new Result(Math.exp(nll / scored), chunks, scored, running, System.nanoTime() - start);
    }

    /** {@code log softmax(logits)[target]}, computed in double. */
    static double logSoftmaxAt(float[] logits, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[target] - max - Math.log(sum);
    }
}
