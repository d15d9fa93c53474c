package dev.pcwmesh.runtime.kernel;

import java.lang.foreign.MemorySegment;

/**
 * The 32-value types whose dot product with Q8_0 activations is, per block, the weight scale
 * times the activation scale times an integer sum of int8 products: Q4_0, Q5_0 and Q8_0 (ggml's
 * {@code vec_dot_type} Q8_0). Each stored block is an f16 scale followed by its quant bits.
 *
 * <p>The order of the arithmetic, which every path keeps bit for bit (this {@code dot}, the
 * matrix's row groups {@link RowGroups#dot} and the batched {@link TiledProduct}): per block, the
 * integer sum of the 32 quant products, exact in float lanes in any order (a product is at most
 * 2^14 in magnitude, a block's sum below 2^20), then {@code sum = fma(blockSum, dw * dx, sum)},
 * block after block. That is ggml's generic {@code ggml_vec_dot_q8_0_q8_0} (and q4_0, q5_0) with
 * the multiply-add fused; ggml's x86 kernels scale per-lane partial sums instead, a rounding
 * apart. This order lets a matrix run down {@link Lanes#L} rows at a time, one row per lane.
 */
interface Int8BlockKernel extends TypeKernel {
    /** Values per block. */
    int QK = 32;

    /** Bytes per stored block. */
    int blockBytes();

    /** The scale of the stored block at byte offset {@code off}. */
    float scale(MemorySegment data, long off);

    /**
     * Bytes per block and row in {@link RowGroups}: 32 (an int8 quant per element: Q8_0, Q5_0)
     * or 16 (Q4_0's stored nibble pairs).
     */
    int groupedBytes();

    /**
     * The {@link #groupedBytes} of the stored block at byte offset {@code off}, byte {@code i}
     * into {@code dst[at + i * stride]}.
     */
    void groupedQuants(MemorySegment data, long off, byte[] dst, int at, int stride);
}
