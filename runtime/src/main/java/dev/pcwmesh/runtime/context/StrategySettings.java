package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.Model;

/**
 * The knobs of every context strategy, and the strategy a name stands for. {@code pcw qa},
 * {@code pcw eval} and the generator service build their strategies here, so a name means the same in all.
 *
 * @param topK           select: windows kept (null: 4); tokens: window keys per head (null: 256)
 * @param blockSize      tokens: keys chosen in blocks of this many by their mean key
 * @param layers         select: "L,L,..." layers whose attention scores windows, null for all
 * @param apeTemperature parallel: APE's temperature (1 with scale 1: plain parallel windows)
 * @param apeScale       parallel: APE's scale
 * @param sinks          lambda: first tokens always kept
 * @param local          lambda: most recent tokens kept (null: the trained window)
 * @param chunk          lambda: tokens read at a time
 * @param maxLength      sequential: longest sequence kept, 0 for the trained window times the RoPE factor
 */
public record StrategySettings(Integer topK, int blockSize, String layers, float apeTemperature, float apeScale,
                               int sinks, Integer local, int chunk, int maxLength) {
    public static final String NAMES = "parallel, select, sequential, lambda, tokens";

    /** The defaults {@code pcw qa --help} shows. */
    public static StrategySettings defaults() {
        return new StrategySettings(null, 16, null, 1f, 1f, 4, null, 64, 0);
    }

    public StrategySettings withTopK(Integer k) {
        return new StrategySettings(k, blockSize, layers, apeTemperature, apeScale, sinks, local, chunk, maxLength);
    }

    /**
     * The strategy called {@code name}.
     *
     * @param embedder select: score windows by this model's embeddings instead of attention (null for attention)
     */
    public Strategy create(String name, Model model, int trainedWindow, Model embedder) {
        return switch (name) {
            case "parallel" -> new ParallelWindows(apeTemperature == 1 && apeScale == 1
                    ? WindowAttention.plain() : WindowAttention.ape(apeTemperature, apeScale));
            case "select" -> new WindowSelection(topK != null ? topK : 4, WindowSelection.parseLayers(layers, model.config().layers()),
                    embedder == null ? null : new Embedder(embedder));
            case "sequential" -> new Sequential(maxLength);
            case "lambda" -> new LambdaWindow(sinks, local != null ? local : trainedWindow, chunk);
            case "tokens" -> new TokenSelection(topK != null ? topK : 256, blockSize);
            default -> throw new IllegalArgumentException("unknown strategy '" + name + "'; one of: " + NAMES);
        };
    }
}
