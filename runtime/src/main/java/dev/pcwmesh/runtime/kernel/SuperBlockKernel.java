package dev.pcwmesh.runtime.kernel;

import java.lang.foreign.MemorySegment;

/**
 * The K-quants (Q4_K, Q5_K, Q6_K), whose dot product with Q8_K activations is, per super-block
 * of 256 values, {@code d * y.d} times an integer sum of quant × sub-block scale × activation
 * quant, less (Q4_K, Q5_K) {@code dmin * y.d} times an integer sum of sub-block mins × the
 * activations' block sums. A batched product ({@link SuperBlockFloats}) unpacks a row once into
 * those integer products' weight side and reuses it for every vector of the batch.
 */
interface SuperBlockKernel extends TypeKernel {
    /** Floats of a super-block's header: {@code d}, {@code dmin}, then the eight sub-block mins. */
    int HEADER = 10;

    /** Bytes per super-block. */
    int blockBytes();

    /**
     * Unpacks the super-block at byte offset {@code off}: {@code values[at, at+256)} are its
     * quants times their sub-block scales, in element order (integers of at most 4096 in
     * magnitude); {@code header[h, h+10)} are {@code d}, {@code dmin} and the eight mins (0 where
     * the type has none).
     */
    void unpack(MemorySegment data, long off, float[] values, int at, float[] header, int h);
}
