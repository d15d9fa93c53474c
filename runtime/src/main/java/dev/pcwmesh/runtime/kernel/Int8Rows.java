package dev.pcwmesh.runtime.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Blocks of a Q4_0, Q5_0 or Q8_0 matrix copied onto the Java heap at load, in the layout their
 * dot products read fastest: each block's stored bytes after its f16 scale ({@link
 * Int8BlockKernel#packedBytes}), one block after the other in a {@code byte[]}, and the scales
 * widened to floats in a {@code float[]}.
 *
 * <p>Why the copy: read from the file's mapped {@link MemorySegment}, every vector load of a block
 * paid the segment's bounds and liveness checks, which C2 does not hoist out of these loops (a
 * microbenchmark put them at about 0.6 ns a block); read from arrays, SmolLM2-shape decode on two
 * threads was 1.2–1.6× faster (README, "What session 10 changed"). Arrays hold at most 2^31
 * bytes, so a matrix larger than that, or one that does not fit the heap ({@link WeightMatrix}),
 * stays in the mapping and is repacked a row at a time
 * ({@link Int8BlockKernel#dot(MemorySegment, long, QuantizedActivations, int, int)}).
 */
final class Int8Rows {
    final Int8BlockKernel kernel;
    /** Block {@code b}'s packed bytes start at {@code b * kernel.packedBytes()}. */
    final byte[] packed;
    /** Block {@code b}'s scale. */
    final float[] scales;

    private Int8Rows(Int8BlockKernel kernel, byte[] packed, float[] scales) {
        this.kernel = kernel;
        this.packed = packed;
        this.scales = scales;
    }

    /** Heap bytes that {@code blocks} blocks of {@code kernel} take here. */
    static long heapBytes(Int8BlockKernel kernel, long blocks) {
        return blocks * (kernel.packedBytes() + Float.BYTES);
    }

    /** Whether {@code blocks} blocks of {@code kernel} fit in Java arrays. */
    static boolean fitsArrays(Int8BlockKernel kernel, long blocks) {
        return blocks * kernel.packedBytes() <= Integer.MAX_VALUE - 16;
    }

    private static Int8Rows empty(Int8BlockKernel kernel, int blocks) {
        return new Int8Rows(kernel, new byte[blocks * kernel.packedBytes()], new float[blocks]);
    }

    /** Blocks {@code [firstBlock, firstBlock + blocks)} of {@code data} (stored as {@code kernel}'s type) repacked. */
    static Int8Rows of(Int8BlockKernel kernel, MemorySegment data, long firstBlock, int blocks) {
        Int8Rows rows = empty(kernel, blocks);
        rows.fill(data, firstBlock, blocks);
        return rows;
    }

    /** Overwrites the first {@code blocks} blocks held here with blocks {@code [firstBlock, ...)} of {@code data}. */
    private void fill(MemorySegment data, long firstBlock, int blocks) {
        int stored = kernel.blockBytes(), pb = kernel.packedBytes();
        for (int b = 0; b < blocks; b++) {
            long off = (firstBlock + b) * stored;
            scales[b] = kernel.scale(data, off);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off + stored - pb, packed, b * pb, pb);
        }
    }

    private static final ThreadLocal<Int8Rows> rowBuffer = new ThreadLocal<>();

    /**
     * Stored values {@code [first, first+n)} of {@code data} (whole blocks of {@code kernel}'s
     * type) repacked into this thread's buffer, from its block 0: the path of a matrix left in the
     * mapping. The buffer is replaced by a new one when too small or of another type.
     */
    static Int8Rows row(Int8BlockKernel kernel, MemorySegment data, long first, int n) {
        Lanes.checkBlocks(first, n, Int8BlockKernel.QK);
        int blocks = n / Int8BlockKernel.QK;
        Int8Rows b = rowBuffer.get();
        if (b == null || b.kernel != kernel || b.scales.length < blocks) {
            b = empty(kernel, blocks);
            rowBuffer.set(b);
        }
        b.fill(data, first / Int8BlockKernel.QK, blocks);
        return b;
    }
}
