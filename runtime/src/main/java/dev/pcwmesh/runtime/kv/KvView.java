package dev.pcwmesh.runtime.kv;

/**
 * Keys (already rotated to the positions they are attended at) and values of a run of tokens,
 * for every layer: what new tokens attend to. Rows are {@code kvDim} floats, one per token.
 */
public interface KvView {
    /** Number of tokens. */
    int length();

    /** Rotated keys of a layer, {@code length() * kvDim} values. */
    float[] keys(int layer);

    /** Values of a layer, {@code length() * kvDim} values. */
    float[] values(int layer);
}
