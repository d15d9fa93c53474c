package dev.pcwmesh.runtime.kv;

import java.util.Arrays;

/**
 * The growing cache of the tokens being processed now (a prompt and its continuation, or a window
 * being encoded). A forward pass writes a batch's rows after {@link #length()} and then
 * {@link #commit commits} them, so tokens of the batch see earlier ones causally.
 *
 * <p>When {@code keepRawKeys} is set, the keys before rotation are kept too: that is what a
 * {@link KvSegment} stores, so that it can later be placed at any position, and what ReRoPE
 * rotates a second time for its clipped distances (kept in {@link #farKeys}).
 */
public final class KvCache {
    private final int layers;
    private final int kvDim;
    private final boolean keepRawKeys;
    private float[][] keys;
    private float[][] values;
    private float[][] rawKeys;
    private final float[][] farKeys;
    private int[] positions = new int[0];
    private int capacity;
    private int length;

    public KvCache(int layers, int kvDim, int capacity, boolean keepRawKeys) {
        this.layers = layers;
        this.kvDim = kvDim;
        this.keepRawKeys = keepRawKeys;
        this.keys = new float[layers][];
        this.values = new float[layers][];
        this.rawKeys = keepRawKeys ? new float[layers][] : null;
        this.farKeys = keepRawKeys ? new float[layers][] : null;
        this.capacity = 0;
        ensureCapacity(Math.max(1, capacity));
    }

    /** Makes room for {@code tokens} tokens in total, growing geometrically. */
    public void ensureCapacity(int tokens) {
        if (tokens <= capacity) return;
        int newCapacity = Math.max(tokens, capacity + capacity / 2);
        for (int l = 0; l < layers; l++) {
            keys[l] = grow(keys[l], newCapacity);
            values[l] = grow(values[l], newCapacity);
            if (keepRawKeys) {
                rawKeys[l] = grow(rawKeys[l], newCapacity);
                if (farKeys[l] != null) farKeys[l] = grow(farKeys[l], newCapacity);
            }
        }
        positions = Arrays.copyOf(positions, newCapacity);
        capacity = newCapacity;
    }

    private float[] grow(float[] a, int tokens) {
        return a == null ? new float[tokens * kvDim] : Arrays.copyOf(a, tokens * kvDim);
    }

    /** Rows committed so far. */
    public int length() { return length; }

    /** Rotated keys of a layer, {@code kvDim} floats a row. */
    public float[] keys(int layer) { return keys[layer]; }

    /** Values of a layer, {@code kvDim} floats a row. */
    public float[] values(int layer) { return values[layer]; }

    public boolean keepsRawKeys() { return keepRawKeys; }

    /** Keys before rotation of a layer (only when {@code keepRawKeys}). */
    public float[] rawKeys(int layer) { return rawKeys[layer]; }

    /**
     * A second rotation of the raw keys, for ReRoPE's scores beyond its window (allocated on
     * first use; only when {@code keepRawKeys}).
     */
    public float[] farKeys(int layer) {
        if (!keepRawKeys) throw new IllegalStateException("this cache keeps no raw keys, so it has no far keys");
        if (farKeys[layer] == null) farKeys[layer] = new float[capacity * kvDim];
        return farKeys[layer];
    }

    /** The position row {@code row} was processed at. */
    public int position(int row) { return positions[row]; }

    /** Records the position of a row being written (before {@link #commit}). */
    public void setPosition(int row, int position) { positions[row] = position; }

    public int kvDim() { return kvDim; }
    public int layers() { return layers; }

    /** Makes {@code tokens} rows written after the current length part of the cache. */
    public void commit(int tokens) {
        if (length + tokens > capacity) throw new IllegalStateException("commit beyond capacity");
        length += tokens;
    }

    /** Forgets everything after the first {@code tokens} rows. */
    public void truncate(int tokens) {
        if (tokens < 0 || tokens > length) throw new IllegalArgumentException("cannot truncate " + length + " rows to " + tokens);
        length = tokens;
    }
}
