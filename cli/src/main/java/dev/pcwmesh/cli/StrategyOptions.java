package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.Strategy;
import dev.pcwmesh.runtime.model.Model;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** How a document is shown to the model: the strategy, its settings, and the position encoding. */
public final class StrategyOptions {
    public static final String STRATEGIES = StrategySettings.NAMES;

    @Option(names = "--strategy", defaultValue = "parallel", paramLabel = "NAME", description = "one of: " + STRATEGIES + " (default: ${DEFAULT-VALUE})")
    String strategy;

    @Option(names = "--window", paramLabel = "N", description = "most tokens per window (default: half the trained window)")
    Integer window;

    @Option(names = "--trained-window", paramLabel = "N", description = "the longest sequence the model was trained on (default: the file's context_length)")
    Integer trainedWindow;

    @Option(names = "--embedding-model", paramLabel = "FILE", description = "select: score windows by cosine similarity of this GGUF model's embeddings")
    Path embeddingModel;

    @Mixin StrategyTuningOptions tuning;

    public int trainedWindow(Model model) {
        return trainedWindow != null ? trainedWindow : model.config().contextLength();
    }

    public int window(Model model) {
        return window != null ? window : Math.max(1, trainedWindow(model) / 2);
    }

    /** The position encoding the options describe. */
    public PositionEncoding positions(Model model) {
        return tuning.rope().positions(model.config().rope(), trainedWindow(model));
    }

    /** The strategy the options describe; an embedding model, when asked for, is loaded and must be closed by the caller. */
    public Strategy strategy(Model model, Model embedder) {
        return tuning.strategies().create(strategy, model, trainedWindow(model), embedder);
    }

    /** Loads the embedding model when one is configured (select only), else null. */
    public Model loadEmbedder() {
        return embeddingModel == null ? null : Model.load(embeddingModel);
    }
}
