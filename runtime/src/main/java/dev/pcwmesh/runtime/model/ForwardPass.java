package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.cuda.CudaTransformer;
import dev.pcwmesh.runtime.kv.KvCache;

/**
 * The forward pass on some backend: a batch of tokens, each at its own position, through every
 * layer under an {@link Attention}, appended to the {@code live} cache. {@link Transformer} runs
 * it on the CPU; {@link CudaTransformer} on a GPU, with the same contract and results equal to
 * float rounding. Instances hold scratch memory and are for one thread at a time; close them
 * (a GPU pass frees device memory).
 */
public interface ForwardPass extends AutoCloseable {

    /** Receives the logits of one row of the batch. {@code logits} is reused after the call returns. */
    @FunctionalInterface
    interface LogitsSink {
        void accept(int row, float[] logits);
    }

    /**
     * Runs {@code tokens} at {@code positions} under {@code attention} and appends them to
     * {@code live}. Logits of rows {@code logitsFrom} and later (indices into {@code tokens}) go
     * to {@code sink}; pass {@code tokens.length} for none.
     */
    void forward(int[] tokens, int[] positions, Attention attention, KvCache live, int logitsFrom, LogitsSink sink);

    @Override
    default void close() {}

    /** A forward pass on the model's backend. */
    static ForwardPass of(Model model) {
        return switch (model.backend()) {
            case CUDA -> new CudaTransformer(model);
            case CPU, AUTO -> new Transformer(model);
        };
    }
}
