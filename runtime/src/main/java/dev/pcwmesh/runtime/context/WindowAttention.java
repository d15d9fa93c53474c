package dev.pcwmesh.runtime.context;

/**
 * How new tokens attend to the window blocks of a plan (the prefix and the new tokens themselves
 * are always attended to in full).
 *
 * @param ape  Adaptive Parallel Encoding's corrections, or null
 * @param topK token selection, or null
 */
public record WindowAttention(Ape ape, TopK topK) {

    /**
     * Adaptive Parallel Encoding (Yang et al., 2025): window scores are divided by a temperature
     * and the windows' total attention mass is scaled, so that the block's log-sum-exp is
     * {@code T·LSE(s/T) + ln S}. With T = 1 and S = 1 nothing changes.
     */
    public record Ape(float temperature, float scale) {
        public Ape {
            if (!(temperature > 0)) throw new IllegalArgumentException("the APE temperature must be positive, got " + temperature);
            if (!(scale > 0)) throw new IllegalArgumentException("the APE scale must be positive, got " + scale);
        }
    }

    /**
     * Token selection: each query head attends to the {@code k} window keys with the largest
     * q·k. With {@code blockSize} above 1 the keys are chosen in blocks, each scored by its mean
     * key (a representative, as in InfLLM), so only the representatives and the chosen blocks
     * are scored.
     */
    public record TopK(int k, int blockSize) {
        public TopK {
            if (k < 1) throw new IllegalArgumentException("top-k must be at least 1, got " + k);
            if (blockSize < 1) throw new IllegalArgumentException("the key block size must be at least 1, got " + blockSize);
        }
    }

    public static WindowAttention plain() {
        return new WindowAttention(null, null);
    }

    public static WindowAttention ape(float temperature, float scale) {
        return new WindowAttention(new Ape(temperature, scale), null);
    }

    public static WindowAttention topK(int k, int blockSize) {
        return new WindowAttention(null, new TopK(k, blockSize));
    }
}
