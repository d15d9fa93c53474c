package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;

/**
 * A Q4_0, Q5_0 or Q8_0 matrix repacked at load into groups of {@link Lanes#L} rows whose blocks
 * are interleaved: for block {@code b} of group {@code g}, the quant of element {@code k} of
 * its {@code L} rows lie side by side, so one vector load holds one element of {@code L} rows
 * and a product runs down the rows, one output row per lane, with no lane sums at the end
 * (llama.cpp repacks Q4_0 in the same spirit, as {@code block_q4_0x8}).
 *
 * <ul>
 *   <li>{@link #quants}: group {@code g}, block {@code b} starts at {@code (g * blocks + b) * bytes * L}
 *       ({@code bytes} = {@link Int8BlockKernel#groupedBytes}); byte {@code i} of row {@code g*L + l}
 *       at {@code + i * L + l}. Q8_0 and Q5_0: one int8 quant per element (Q5_0's values widened
 *       from five bits). Q4_0: the stored bytes, element {@code j} in the low nibble of byte
 *       {@code j} and element {@code j + 16} in the high one, both less 8.</li>
 *   <li>{@link #scales}: the block scale of row {@code g*L + l} at {@code (g * blocks + b) * L + l}.</li>
 * </ul>
 *
 * <p>The last group is filled up with rows of zeros. Every product here, in {@link
 * TiledProduct} and in the kernel's own {@code dot} is the same number, bit for bit ({@link
 * Int8BlockKernel} gives the order): per block the exact integer sum of the quant products, in
 * any order, then one fused multiply-add by {@code dw * dx} per block, in block order.
 */
final class RowGroups {
    private static final int QK = Int8BlockKernel.QK;

    final Int8BlockKernel kernel;
    final int cols;
    /** Blocks per row. */
    final int blocks;
    /** Groups held. */
    final int groups;
    final byte[] quants;
    final float[] scales;
    private final int bytes;

    /** Room for {@code groups} groups of rows of {@code cols} values of {@code kernel}'s type. */
    RowGroups(Int8BlockKernel kernel, int cols, int groups) {
        this.kernel = kernel;
        this.cols = cols;
        this.blocks = cols / QK;
        this.groups = groups;
        this.bytes = kernel.groupedBytes();
        // a vector load at the last element reads up to one byte vector past it
        this.quants = new byte[Math.toIntExact((long) groups * blocks * bytes * L + Lanes.BL)];
        this.scales = new float[groups * blocks * L];
    }

    /** Heap bytes that a matrix of {@code rows x cols} takes here. */
    static long heapBytes(Int8BlockKernel kernel, int rows, int cols) {
        long groupBlocks = (long) groupsFor(rows) * (cols / QK);
        return groupBlocks * L * (kernel.groupedBytes() + Float.BYTES);
    }

    /** Whether a matrix of {@code rows x cols} fits in Java arrays in this layout. */
    static boolean fitsArrays(Int8BlockKernel kernel, int rows, int cols) {
        return (long) groupsFor(rows) * (cols / QK) * kernel.groupedBytes() * L <= Integer.MAX_VALUE - 64;
    }

    static int groupsFor(int rows) {
        return (rows + L - 1) / L;
    }

    /** The whole matrix of {@code rows x cols} stored in {@code data}, repacked. */
    static RowGroups of(Int8BlockKernel kernel, MemorySegment data, int rows, int cols) {
        Lanes.checkBlocks(0, cols, QK);
        RowGroups m = new RowGroups(kernel, cols, groupsFor(rows));
        m.fill(data, rows, 0);
        return m;
    }

    /**
     * Overwrites every group held with groups {@code [firstGroup, firstGroup + groups)} of the
     * matrix of {@code rows} rows stored in {@code data}; rows past its end are zeros.
     */
    void fill(MemorySegment data, int rows, int firstGroup) {
        int stored = kernel.blockBytes(), span = bytes * L;
        for (int g = 0; g < groups; g++) {
            for (int l = 0; l < L; l++) {
                int r = (firstGroup + g) * L + l;
                for (int b = 0; b < blocks; b++) {
                    int at = (g * blocks + b) * span + l, s = (g * blocks + b) * L + l;
                    if (r >= rows) {
                        for (int i = 0; i < bytes; i++) quants[at + i * L] = 0;
                        scales[s] = 0f;
                        continue;
                    }
                    long off = ((long) r * blocks + b) * stored;
                    scales[s] = kernel.scale(data, off);
                    kernel.groupedQuants(data, off, quants, at, L);
                }
            }
        }
    }

    /**
     * Group {@code g}'s rows times prepared Q8_0 activations {@code [aOffset, aOffset + cols)},
     * into {@code out[at, at + L)}.
     */
    void dot(int g, QuantizedActivations a, int aOffset, float[] out, int at) {
        a.check(QuantizedActivations.VecDotType.Q8_0, aOffset, cols);
        // each kernel stores its own result: a vector returned from a call that C2 does not inline is boxed
        if (bytes == QK) dotBytes(g, a.qsFloat, a.d, aOffset, out, at);
        else dotNibbles(g, a.qsFloat, a.d, a.sums, aOffset, out, at);
    }

    /** One int8 quant per element: four chains of FMAs per block, added (exactly) at its end. */
    private void dotBytes(int g, float[] x, float[] xd, int aOffset, float[] out, int at) {
        FloatVector sum = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int q = (g * blocks + b) * QK * L, xb = aOffset + b * QK;
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            for (int k = 0; k < QK; k += 4) {
                c0 = Lanes.floats(Lanes.bytes(quants, q + k * L), 0).fma(FloatVector.broadcast(F, x[xb + k]), c0);
                c1 = Lanes.floats(Lanes.bytes(quants, q + (k + 1) * L), 0).fma(FloatVector.broadcast(F, x[xb + k + 1]), c1);
                c2 = Lanes.floats(Lanes.bytes(quants, q + (k + 2) * L), 0).fma(FloatVector.broadcast(F, x[xb + k + 2]), c2);
                c3 = Lanes.floats(Lanes.bytes(quants, q + (k + 3) * L), 0).fma(FloatVector.broadcast(F, x[xb + k + 3]), c3);
            }
            FloatVector scale = FloatVector.fromArray(F, scales, (g * blocks + b) * L).mul(xd[xb / QK]);
            sum = c0.add(c1).add(c2.add(c3)).fma(scale, sum);
        }
        sum.intoArray(out, at);
    }

    /**
     * Q4_0's nibbles, taken as 0..15: the block's sum of {@code (q - 8) * x} is then that sum
     * less {@code 8 * sum(x)}, the same integer, with two operations per byte fewer.
     */
    private void dotNibbles(int g, float[] x, float[] xd, float[] xSums, int aOffset, float[] out, int at) {
        FloatVector sum = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int q = (g * blocks + b) * (QK / 2) * L, xb = aOffset + b * QK;
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            for (int j = 0; j < QK / 2; j += 2) {
                ByteVector v = Lanes.bytes(quants, q + j * L), w = Lanes.bytes(quants, q + (j + 1) * L);
                c0 = Lanes.floats(v.and((byte) 0x0F), 0).fma(FloatVector.broadcast(F, x[xb + j]), c0);
                c1 = Lanes.floats(Lanes.shr(v, 4).and((byte) 0x0F), 0).fma(FloatVector.broadcast(F, x[xb + QK / 2 + j]), c1);
                c2 = Lanes.floats(w.and((byte) 0x0F), 0).fma(FloatVector.broadcast(F, x[xb + j + 1]), c2);
                c3 = Lanes.floats(Lanes.shr(w, 4).and((byte) 0x0F), 0).fma(FloatVector.broadcast(F, x[xb + QK / 2 + j + 1]), c3);
            }
            FloatVector scale = FloatVector.fromArray(F, scales, (g * blocks + b) * L).mul(xd[xb / QK]);
            sum = c0.add(c1).add(c2.add(c3)).sub(8f * xSums[xb / QK]).fma(scale, sum);
        }
        sum.intoArray(out, at);
    }

    /**
     * Q4_0 only: groups {@code g0} and {@code g1}'s quants less 8 as shorts, side by side, for
     * {@link TiledProduct}'s 16-bit tile: element {@code k} of row {@code l} of {@code g0} into
     * {@code w[at + k * 2L + l]}, of {@code g1} into {@code w[at + k * 2L + L + l]}.
     */
    void unpackShorts(int g0, int g1, short[] w, int at) {
        if (bytes != QK / 2) throw new IllegalStateException("16-bit quants are for Q4_0 only, not " + kernel.type());
        for (int b = 0; b < blocks; b++) {
            int o = at + b * QK * 2 * L;
            for (int half = 0; half < 2; half++) {
                int q = ((half == 0 ? g0 : g1) * blocks + b) * (QK / 2) * L, h = o + half * L;
                for (int j = 0; j < QK / 2; j++) {
                    ByteVector v = Lanes.bytes(quants, q + j * L);
                    Lanes.shorts(v.and((byte) 0x0F).sub((byte) 8), 0).intoArray(w, h + j * 2 * L);
                    Lanes.shorts(Lanes.shr(v, 4).and((byte) 0x0F).sub((byte) 8), 0).intoArray(w, h + (QK / 2 + j) * 2 * L);
                }
            }
        }
    }

    /**
     * Group {@code g}'s quants as floats (Q4_0's less 8), for {@link TiledProduct}: element
     * {@code k} of its row {@code l} into {@code w[at + k * L + l]}.
     */
    void unpack(int g, float[] w, int at) {
        for (int b = 0; b < blocks; b++) {
            int o = at + b * QK * L;
            if (bytes == QK) {
                int q = (g * blocks + b) * QK * L;
                for (int k = 0; k < QK; k++) Lanes.floats(Lanes.bytes(quants, q + k * L), 0).intoArray(w, o + k * L);
            } else {
                int q = (g * blocks + b) * (QK / 2) * L;
                for (int j = 0; j < QK / 2; j++) {
                    ByteVector v = Lanes.bytes(quants, q + j * L);
                    Lanes.floats(v.and((byte) 0x0F).sub((byte) 8), 0).intoArray(w, o + j * L);
                    Lanes.floats(Lanes.shr(v, 4).and((byte) 0x0F).sub((byte) 8), 0).intoArray(w, o + (QK / 2 + j) * L);
                }
            }
        }
    }
}
