package dev.pcwmesh.runtime.kernel;

import java.lang.foreign.MemorySegment;

/**
 * The 32-value types whose dot product with Q8_0 activations is, per block, the weight scale
 * times the activation scale times an integer sum of int8 products: Q4_0, Q5_0 and Q8_0 (ggml's
 * {@code vec_dot_type} Q8_0). Each block is an f16 scale followed by its quant bits; a matrix's
 * blocks are read from {@link Int8Rows}, a heap copy with the scales widened to floats.
 *
 * <p>The dot products are taken in float lanes of {@link Lanes#F}: the weight quants are
 * widened to floats and multiplied by the activation quants, also as floats
 * ({@link QuantizedActivations#qsFloat}). A product of two quants is an integer of at most
 * 2^14 in magnitude and a lane adds at most eight of them per block, so each lane's block sum is
 * an exact integer, as ggml's integer lanes give; lane {@code k} of a block holds elements
 * {@code k, k+L, k+2L, ...}. The block sums are scaled by {@code dw * dx} into lanes that run
 * over the row, added once at its end ({@link Vectors#sumLanes}), as ggml's x86 kernels end a
 * block with {@code _mm256_fmadd_ps(d, q, acc)}. A batched product ({@link BlockFloats}) unpacks
 * a row to these floats once and reuses it for every vector of the batch, and gets the same
 * numbers bit for bit.
 */
interface Int8BlockKernel extends TypeKernel {
    /** Values per block. */
    int QK = 32;

    /** Bytes per stored block. */
    int blockBytes();

    /** Bytes of a stored block after its f16 scale: its packed form in {@link Int8Rows}. */
    default int packedBytes() { return blockBytes() - 2; }

    /** The scale of the stored block at byte offset {@code off}. */
    float scale(MemorySegment data, long off);

    /** The 32 quants of the packed block at {@code packed[at..]}, as floats, into {@code dst[dstAt, dstAt+32)} in element order. */
    void unpack(byte[] packed, int at, float[] dst, int dstAt);

    /**
     * The dot of packed blocks {@code [block0, block0 + n/32)} of {@code rows} with prepared
     * activations {@code [aOffset, aOffset+n)}.
     */
    float dot(Int8Rows rows, int block0, QuantizedActivations a, int aOffset, int n);

    /**
     * The same number from stored blocks: the row is repacked into this thread's buffer first.
     * Only matrices that are not held on the heap (and tests) come here.
     */
    @Override
    default float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        return dot(Int8Rows.row(this, data, first, n), 0, a, aOffset, n);
    }
}
