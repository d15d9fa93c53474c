package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.kv.KvCache;

/**
 * What the new tokens of a forward pass attend to, and how: the one place where the ways past a
 * trained window differ inside a layer. The {@link Transformer} computes queries, keys and values,
 * rotates them with {@link #rope()}, appends the batch to the live cache and then asks the
 * attention for each token's mix of values.
 */
public interface Attention {

    /** The rotation of the new tokens' queries and keys. */
    Rope rope();

    /** Whether {@link #attend} reads the queries before rotation (ReRoPE's second score needs them). */
    default boolean needsRawQueries() { return false; }

    /**
     * Writes the attention output of a batch of {@code n} tokens. Token {@code t} sits at
     * {@code positions[from + t]}; its rotated query heads are {@code q[t*qDim ..]} (before
     * rotation in {@code rawQ}, when asked for); its key and value rows are already in
     * {@code live} at row {@code live.length() + t}, not yet committed. Output head {@code h} of
     * token {@code t} goes to {@code out[t*qDim + h*headDim ..]}.
     */
    void attend(int layer, int[] positions, int from, int n, float[] q, float[] rawQ, KvCache live, float[] out);
}
