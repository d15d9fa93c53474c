package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.model.Model;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options every command that runs a model shares: which file, how many threads, which backend. */
public final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file")
    Path model;

    @Mixin ThreadOptions threads;

    @Mixin BackendOption backend;

    /** Applies the thread count and loads the model for the chosen backend. */
    public Model load() {
        threads.apply();
        return Model.load(model, backend.backend);
    }
}
