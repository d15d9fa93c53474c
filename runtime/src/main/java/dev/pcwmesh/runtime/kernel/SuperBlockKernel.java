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

    /** Sub-blocks per super-block, each with its own scale: 8 of 32 values (Q4_K, Q5_K) or 16 of 16 (Q6_K). */
    int subBlocks();

    /** The largest magnitude of a quant ({@link #split}'s {@code q}): 15, 31 or 32. */
    int maxQuant();

    /** The largest magnitude of a sub-block scale: 63 (six bits: Q4_K, Q5_K) or 128 (Q6_K's signed bytes). */
    int maxScale();

    /**
     * The super-block at byte offset {@code off} as the integers of its dot product, for a
     * repacked copy ({@link SuperBlockGroups}): its 256 quants into {@code q[0, 256)} in element
     * order (Q6_K's less 32), the sub-block scales into {@code scales[0, subBlocks)} and, where
     * the type has them (Q4_K, Q5_K), the mins into {@code mins[0, subBlocks)}; a type without
     * mins leaves {@code mins} as it is.
     */
    void split(MemorySegment data, long off, byte[] q, byte[] scales, byte[] mins);

    /** The super-block scale {@code d} of the super-block at byte offset {@code off}. */
    float d(MemorySegment data, long off);
}
