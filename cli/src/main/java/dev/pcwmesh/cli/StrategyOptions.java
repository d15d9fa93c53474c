package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.context.Embedder;
import dev.pcwmesh.runtime.context.LambdaWindow;
import dev.pcwmesh.runtime.context.ParallelWindows;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.ReRope;
import dev.pcwmesh.runtime.context.Sequential;
import dev.pcwmesh.runtime.context.Strategy;
import dev.pcwmesh.runtime.context.TokenSelection;
import dev.pcwmesh.runtime.context.WindowAttention;
import dev.pcwmesh.runtime.context.WindowSelection;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.RopeConfig;
import dev.pcwmesh.runtime.model.RopeScaling;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** How a document is shown to the model: the strategy, its settings, and the position encoding. */
public final class StrategyOptions {
    public static final String STRATEGIES = "parallel, select, sequential, lambda, tokens";
    public static final String ROPES = "file, linear, ntk, dynamic-ntk, yarn, llama3, truncated-basis, rerope, leaky-rerope";

    @Option(names = "--strategy", defaultValue = "parallel", paramLabel = "NAME", description = "one of: " + STRATEGIES + " (default: ${DEFAULT-VALUE})")
    String strategy;

    @Option(names = "--window", paramLabel = "N", description = "most tokens per window (default: half the trained window)")
    Integer window;

    @Option(names = "--trained-window", paramLabel = "N", description = "the longest sequence the model was trained on (default: the file's context_length)")
    Integer trainedWindow;

    @Option(names = "--top-k", paramLabel = "K", description = "select: windows kept (default 4); tokens: window keys each head attends to (default 256)")
    Integer topK;

    @Option(names = "--block-size", defaultValue = "16", paramLabel = "N", description = "tokens: keys chosen in blocks of N by their mean key, 1 for single keys (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--layers", paramLabel = "L,L,...", description = "select: layers whose attention scores the windows (default: all)")
    String layers;

    @Option(names = "--embedding-model", paramLabel = "FILE", description = "select: score windows by cosine similarity of this GGUF model's embeddings")
    Path embeddingModel;

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

    @Option(names = "--rope", defaultValue = "file", paramLabel = "NAME", description = "position encoding, one of: " + ROPES + " (default: ${DEFAULT-VALUE}, as the model file says)")
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

    public int trainedWindow(Model model) {
        return trainedWindow != null ? trainedWindow : model.config().contextLength();
    }

    public int window(Model model) {
        return window != null ? window : Math.max(1, trainedWindow(model) / 2);
    }

    /** The position encoding the options describe. */
    public PositionEncoding positions(Model model) {
        RopeConfig file = model.config().rope();
        int trained = trainedWindow(model);
        int original = originalLength != null ? originalLength : trained;
        int w = reropeWindow != null ? reropeWindow : Math.max(1, trained / 2);
        return switch (rope) {
            case "file" -> new PositionEncoding(file, null);
            case "linear" -> scaled(file, new RopeScaling.Linear(ropeScale));
            case "ntk" -> scaled(file, new RopeScaling.Ntk(ropeScale));
            case "dynamic-ntk" -> scaled(file, new RopeScaling.DynamicNtk());
            case "yarn" -> scaled(file, new RopeScaling.Yarn(ropeScale, original, betaFast, betaSlow, 1f));
            case "llama3" -> scaled(file, new RopeScaling.Llama3(ropeScale, lowFreqFactor, highFreqFactor, original));
            case "truncated-basis" -> scaled(file, truncatedBasis());
            case "rerope" -> new PositionEncoding(file, ReRope.clipped(w));
            case "leaky-rerope" -> new PositionEncoding(file, new ReRope(w, leak));
            default -> throw new IllegalArgumentException("unknown --rope '" + rope + "'; one of: " + ROPES);
        };
    }

    private static PositionEncoding scaled(RopeConfig file, RopeScaling scaling) {
        return new PositionEncoding(file.withScaling(scaling), null);
    }

    private RopeScaling truncatedBasis() {
        if (basis == null) throw new IllegalArgumentException("--rope truncated-basis needs --basis A,B,RHO");
        String[] p = basis.split(",");
        if (p.length != 3) throw new IllegalArgumentException("--basis takes three numbers A,B,RHO, got '" + basis + "'");
        return new RopeScaling.TruncatedBasis(Float.parseFloat(p[0].strip()), Float.parseFloat(p[1].strip()), Float.parseFloat(p[2].strip()));
    }

    /** The strategy the options describe; an embedding model, when asked for, is loaded and must be closed by the caller. */
    public Strategy strategy(Model model, Model embedder) {
        int trained = trainedWindow(model);
        return switch (strategy) {
            case "parallel" -> new ParallelWindows(apeTemperature == 1 && apeScale == 1
                    ? WindowAttention.plain() : WindowAttention.ape(apeTemperature, apeScale));
            case "select" -> new WindowSelection(topK != null ? topK : 4, WindowSelection.parseLayers(layers, model.config().layers()),
                    embedder == null ? null : new Embedder(embedder));
            case "sequential" -> new Sequential(maxLength);
            case "lambda" -> new LambdaWindow(sinks, local != null ? local : trained, chunk);
            case "tokens" -> new TokenSelection(topK != null ? topK : 256, blockSize);
            default -> throw new IllegalArgumentException("unknown --strategy '" + strategy + "'; one of: " + STRATEGIES);
        };
    }

    /** Loads the embedding model when one is configured (select only), else null. */
    public Model loadEmbedder() {
        return embeddingModel == null ? null : Model.load(embeddingModel);
    }
}
