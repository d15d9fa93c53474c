package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.runtime.context.StrategySettings;
import picocli.CommandLine.Option;

/**
 * The settings of the strategies and the position encoding, shared by {@code pcw qa} (through
 * {@link StrategyOptions}) and {@code pcw eval}; the strategies themselves are built in the eval
 * library ({@link StrategySettings}, {@link RopeSettings}) so a name means the same in both.
 */
public final class StrategyTuningOptions {
    @Option(names = "--top-k", paramLabel = "K", description = "select: windows kept (default 4); tokens: window keys each head attends to (default 256)")
    Integer topK;

    @Option(names = "--block-size", defaultValue = "16", paramLabel = "N", description = "tokens: keys chosen in blocks of N by their mean key, 1 for single keys (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--layers", paramLabel = "L,L,...", description = "select: layers whose attention scores the windows (default: all)")
    String layers;

    @Option(names = "--ape-temperature", defaultValue = "1", paramLabel = "T", description = "parallel: APE temperature on window scores (default: ${DEFAULT-VALUE})")
    float apeTemperature;

    @Option(names = "--ape-scale", defaultValue = "1", paramLabel = "S", description = "parallel: APE scale on the windows' attention mass (default: ${DEFAULT-VALUE})")
    float apeScale;

    @Option(names = "--sinks", defaultValue = "4", paramLabel = "N", description = "lambda: first tokens always kept (default: ${DEFAULT-VALUE})")
    int sinks;

    @Option(names = "--local", paramLabel = "N", description = "lambda: most recent tokens kept (default: as many as fit the trained window)")
    Integer local;

    @Option(names = "--chunk", defaultValue = "64", paramLabel = "N", description = "lambda: tokens read at a time (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = "--max-length", defaultValue = "0", paramLabel = "N", description = "sequential: longest sequence kept, 0 for the trained window times the RoPE factor (default: ${DEFAULT-VALUE})")
    int maxLength;

    @Option(names = "--rope", defaultValue = "file", paramLabel = "NAME", description = "position encoding, one of: " + RopeSettings.NAMES + " (default: ${DEFAULT-VALUE}, as the model file says)")
    String rope;

    @Option(names = "--rope-scale", defaultValue = "1", paramLabel = "S", description = "target length / trained length for linear, ntk, yarn, llama3 (default: ${DEFAULT-VALUE})")
    float ropeScale;

    @Option(names = "--original-length", paramLabel = "N", description = "yarn, llama3: the trained length the rescaling refers to (default: the trained window)")
    Integer originalLength;

    @Option(names = "--beta-fast", defaultValue = "32", paramLabel = "B", description = "yarn (default: ${DEFAULT-VALUE})")
    float betaFast;

    @Option(names = "--beta-slow", defaultValue = "1", paramLabel = "B", description = "yarn (default: ${DEFAULT-VALUE})")
    float betaSlow;

    @Option(names = "--low-freq-factor", defaultValue = "1", paramLabel = "X", description = "llama3 (default: ${DEFAULT-VALUE})")
    float lowFreqFactor;

    @Option(names = "--high-freq-factor", defaultValue = "4", paramLabel = "X", description = "llama3 (default: ${DEFAULT-VALUE})")
    float highFreqFactor;

    @Option(names = "--basis", paramLabel = "A,B,RHO", description = "truncated-basis: frequencies below A dropped, [A,B) set to RHO")
    String basis;

    @Option(names = "--rerope-window", paramLabel = "W", description = "rerope, leaky-rerope: largest distance seen as is (default: half the trained window)")
    Integer reropeWindow;

    @Option(names = "--leak", defaultValue = "16", paramLabel = "K", description = "leaky-rerope: distance grows by 1/K beyond the window (default: ${DEFAULT-VALUE})")
    float leak;

    public StrategySettings strategies() {
        return new StrategySettings(topK, blockSize, layers, apeTemperature, apeScale, sinks, local, chunk, maxLength);
    }

    public RopeSettings rope() {
        return new RopeSettings(rope, ropeScale, originalLength, betaFast, betaSlow, lowFreqFactor, highFreqFactor, basis, reropeWindow, leak);
    }
}
