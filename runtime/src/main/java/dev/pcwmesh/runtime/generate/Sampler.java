package dev.pcwmesh.runtime.generate;

import java.util.Random;

/**
 * Chooses the next token from logits, in llama.cpp's order: repetition penalty, top-k, top-p,
 * min-p, temperature, then a draw. Greedy when the temperature is 0. Buffers are allocated once
 * per vocabulary, so sampling does not allocate per token.
 */
public final class Sampler {
    private final SamplingParams params;
    private final Random random;
    private final int[] candidates;
    private final float[] probs;
    private final int[] recent;
    private int recentCount;
    private int recentStart;

    public Sampler(SamplingParams params, int vocabSize) {
        this.params = params;
        this.random = new Random(params.seed());
        this.candidates = new int[vocabSize];
        this.probs = new float[vocabSize];
        this.recent = new int[Math.max(1, params.repeatLastN())];
    }

    /** Records a token (prompt or generated) for the repetition penalty. */
    public void accept(int token) {
        if (params.repeatLastN() == 0) return;
        if (recentCount < recent.length) {
            recent[(recentStart + recentCount++) % recent.length] = token;
        } else {
            recent[recentStart] = token;
            recentStart = (recentStart + 1) % recent.length;
        }
    }

    /** Picks the next token. {@code logits} may be modified. */
    public int sample(float[] logits) {
        int n = logits.length;
        if (params.repetitionPenalty() != 1f) {
            // Each distinct recent token is penalised once, as in llama.cpp.
            for (int i = 0; i < recentCount; i++) {
                int t = recent[(recentStart + i) % recent.length];
                boolean seen = false;
                for (int j = 0; j < i && !seen; j++) seen = recent[(recentStart + j) % recent.length] == t;
                if (seen) continue;
                logits[t] = logits[t] > 0 ? logits[t] / params.repetitionPenalty() : logits[t] * params.repetitionPenalty();
            }
        }
        if (params.greedy()) return argmax(logits);

        // Candidates sorted by logit, descending; top-k bounds how many we sort.
        int k = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        int count = topK(logits, k);

        // top-p and min-p on the untempered distribution of the candidates.
        float max = logits[candidates[0]];
        double sum = 0;
        for (int i = 0; i < count; i++) sum += probs[i] = (float) Math.exp(logits[candidates[i]] - max);
        if (params.topP() < 1f) {
            double cumulative = 0;
            for (int i = 0; i < count; i++) {
                cumulative += probs[i] / sum;
                if (cumulative >= params.topP()) {
                    count = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0f) {
            float threshold = (float) (max + Math.log(params.minP()));
            int kept = 1;
            while (kept < count && logits[candidates[kept]] >= threshold) kept++;
            count = kept;
        }

        // Temperature, then a draw.
        double total = 0;
        for (int i = 0; i < count; i++) total += probs[i] = (float) Math.exp((logits[candidates[i]] - max) / params.temperature());
        double r = random.nextDouble() * total;
        for (int i = 0; i < count; i++) {
            r -= probs[i];
            if (r <= 0) return candidates[i];
        }
        return candidates[count - 1];
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Puts the k largest logits' ids into {@code candidates[0..k)}, sorted descending; returns k. */
    private int topK(float[] logits, int k) {
        int n = logits.length;
        if (k == n) {
            for (int i = 0; i < n; i++) candidates[i] = i;
            sortByLogitDescending(logits, n);
            return n;
        }
        // A min-heap of size k over all logits, then sorted.
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (size < k) {
                candidates[size] = i;
                siftUp(logits, size++);
            } else if (logits[i] > logits[candidates[0]]) {
                candidates[0] = i;
                siftDown(logits, 0, size);
            }
        }
        sortByLogitDescending(logits, size);
        return size;
    }

    private void siftUp(float[] l, int i) {
        while (i > 0) {
            int p = (i - 1) / 2;
            if (l[candidates[i]] >= l[candidates[p]]) return;
            swap(i, p);
            i = p;
        }
    }

    private void siftDown(float[] l, int i, int size) {
        while (true) {
            int a = 2 * i + 1, b = a + 1, m = i;
            if (a < size && l[candidates[a]] < l[candidates[m]]) m = a;
            if (b < size && l[candidates[b]] < l[candidates[m]]) m = b;
            if (m == i) return;
            swap(i, m);
            i = m;
        }
    }

    private void swap(int i, int j) {
        int t = candidates[i];
        candidates[i] = candidates[j];
        candidates[j] = t;
    }

    /** Heap sort of candidates[0..size) by logit, descending (no boxing, no allocation). */
    private void sortByLogitDescending(float[] l, int size) {
        for (int i = size / 2 - 1; i >= 0; i--) siftDown(l, i, size);
        for (int end = size - 1; end > 0; end--) {
            swap(0, end);
            siftDown(l, 0, end);
        }
        // A min-heap sort leaves the order descending.
    }
}
