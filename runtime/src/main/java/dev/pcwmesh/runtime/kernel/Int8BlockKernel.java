package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;

import java.lang.foreign.MemorySegment;

/**
 * The 32-value types whose dot product with Q8_0 activations is, per block, the weight scale
 * times the activation scale times an integer sum of int8 products: Q4_0, Q5_0 and Q8_0 (ggml's
 * {@code vec_dot_type} Q8_0). Once unpacked their quants are plain int8, so a batched product
 * ({@link BlockFloats}) can unpack a row once and reuse it for every vector of the batch.
 */
interface Int8BlockKernel extends TypeKernel {
    /** Values per block. */
    int QK = 32;

    /** Bytes per block. */
    int blockBytes();

    /** The weight scale of the block at byte offset {@code off}. */
    float scale(MemorySegment data, long off);

    /**
     * The int8 quants of elements {@code [e0, e0 + Int8Lanes.N)} of the block at byte offset
     * {@code off}, for {@code e0} a multiple of {@link Int8Lanes#N} below 32.
     */
    ByteVector quants(MemorySegment data, long off, int e0);
}
