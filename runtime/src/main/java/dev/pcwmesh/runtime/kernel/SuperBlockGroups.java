package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.pcwmesh.runtime.kernel.KQuants.QK_K;
import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;

/**
 * A Q4_K, Q5_K or Q6_K matrix repacked at load into groups of {@link Lanes#L} interleaved rows,
 * as {@link RowGroups} does for the 32-value types: one vector load holds one element of
 * {@code L} rows, so a product runs down the rows, one output row per lane, and needs no lane
 * sums. Each super-block is split into its integers ({@link SuperBlockKernel#split}):
 *
 * <ul>
 *   <li>{@link #quants}: byte {@code i} of row {@code g*L + l} at {@code (g * rowBytes + i) * L + l}.
 *       Q4_K keeps its stored nibble pairs (per 64 values, byte {@code j} holds value {@code j} in
 *       its low nibble and value {@code 32 + j} in its high one); Q5_K and Q6_K take a byte per
 *       value (Q6_K's less 32): with the scales, about 1.6 and 1.3 times their stored size.</li>
 *   <li>{@link #scales}, {@link #mins}: sub-block {@code j} of super-block {@code b} of that row at
 *       {@code ((g * superBlocks + b) * subBlocks + j) * L + l}, as bytes (Q6_K has no mins).</li>
 *   <li>{@link #d}, {@link #dmin}: super-block {@code b} of that row at {@code (g * superBlocks + b) * L + l}
 *       (no {@code dmin} for Q6_K).</li>
 * </ul>
 *
 * <p>Every product here and in {@link TiledProduct#multiplySuperBlocks} is the kernel's own
 * {@code dot}, bit for bit: per super-block the exact integers {@code isum} (quants times
 * activation quants times sub-block scales) and {@code summs} (mins times the activations' sums
 * of 32), then {@code sums += (d * dy) * isum} and {@code sumf -= (dmin * dy) * summs}, and
 * {@code sumf + sums} at the end ({@code sums} alone for Q6_K). The integers are summed in float
 * lanes only while they stay below 2^24, where every float sum of integers is exact, and added
 * as ints beyond: a sub-block's products here (at most 32 * 32 * 127 * 128 < 2^24), a chunk of
 * {@link #chunk} values of scaled quants in the tile.
 */
final class SuperBlockGroups {
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    final SuperBlockKernel kernel;
    final int cols;
    final int superBlocks;
    final int groups;
    final int subBlocks;
    /** Values per sub-block: 32 or 16. */
    final int subBlockValues;
    final boolean nibbles;
    /** Whether the type has mins (Q4_K, Q5_K): Q6_K's are zeros, so their products may be left out. */
    final boolean withMins;
    /** Quant bytes per row. */
    final int rowBytes;
    /**
     * Values of scaled quants whose products with activation quants a float lane may add
     * exactly: the largest power of two {@code n} with {@code n * maxQuant * maxScale * 127 < 2^24}
     * (128 for Q4_K, 64 for Q5_K, 32 for Q6_K).
     */
    final int chunk;
    final byte[] quants;
    final byte[] scales;
    final byte[] mins;
    final float[] d;
    final float[] dmin;

    private SuperBlockGroups(SuperBlockKernel kernel, int cols, int groups) {
        Lanes.checkBlocks(0, cols, QK_K);
        this.kernel = kernel;
        this.cols = cols;
        this.superBlocks = cols / QK_K;
        this.groups = groups;
        this.subBlocks = kernel.subBlocks();
        this.subBlockValues = QK_K / subBlocks;
        this.rowBytes = rowBytes(kernel, cols);
        this.nibbles = rowBytes < cols;
        this.withMins = hasMins(kernel);
        this.chunk = Integer.highestOneBit((1 << 24) / (kernel.maxQuant() * kernel.maxScale() * 127 + 1));
        // a vector load at the last element reads up to one byte vector past it
        this.quants = new byte[Math.toIntExact((long) groups * rowBytes * L + Lanes.BL)];
        this.scales = new byte[groups * superBlocks * subBlocks * L + Lanes.BL];
        // none for Q6_K, whose products leave the mins out
        this.mins = withMins ? new byte[scales.length] : null;
        this.d = new float[groups * superBlocks * L];
        this.dmin = withMins ? new float[d.length] : null;
    }

    /** Whether {@code kernel}'s type has mins (Q4_K, Q5_K; not Q6_K). */
    private static boolean hasMins(SuperBlockKernel kernel) {
        return kernel instanceof ScaleMinKernel;
    }

    /** Quant bytes per row of {@code cols} values: nibble pairs for quants of 4 bits (Q4_K), else a byte per value. */
    private static int rowBytes(SuperBlockKernel kernel, int cols) {
        return kernel.maxQuant() < 16 ? cols / 2 : cols;
    }

    /** Heap bytes that a matrix of {@code rows x cols} of {@code kernel}'s type takes here. */
    static long heapBytes(SuperBlockKernel kernel, int rows, int cols) {
        long rowsHeld = (long) RowGroups.groupsFor(rows) * L;
        // scales and d, and for a type with mins its mins and dmin
        long perSuperBlock = hasMins(kernel) ? 2L * kernel.subBlocks() + 2 * Float.BYTES : kernel.subBlocks() + Float.BYTES;
        return rowsHeld * rowBytes(kernel, cols) + rowsHeld * (cols / QK_K) * perSuperBlock;
    }

    /** Whether a matrix of {@code rows x cols} fits in Java arrays in this layout. */
    static boolean fitsArrays(SuperBlockKernel kernel, int rows, int cols) {
        return (long) RowGroups.groupsFor(rows) * L * rowBytes(kernel, cols) <= Integer.MAX_VALUE - 64;
    }

    /** The whole matrix of {@code rows x cols} stored in {@code data}, repacked (rows past the end of the last group are zeros). */
    static SuperBlockGroups of(SuperBlockKernel kernel, MemorySegment data, int rows, int cols) {
        SuperBlockGroups m = new SuperBlockGroups(kernel, cols, RowGroups.groupsFor(rows));
        byte[] q = new byte[QK_K], sc = new byte[m.subBlocks], mn = new byte[m.subBlocks];
        int S = m.subBlocks;
        for (int r = 0; r < rows; r++) {
            int g = r / L, l = r % L;
            for (int b = 0; b < m.superBlocks; b++) {
                long off = ((long) r * m.superBlocks + b) * kernel.blockBytes();
                kernel.split(data, off, q, sc, mn);
                int sb = g * m.superBlocks + b;
                m.d[sb * L + l] = kernel.d(data, off);
                if (kernel instanceof ScaleMinKernel scaleMin) m.dmin[sb * L + l] = scaleMin.dmin(data, off);
                for (int j = 0; j < S; j++) {
                    m.scales[(sb * S + j) * L + l] = sc[j];
                    if (m.withMins) m.mins[(sb * S + j) * L + l] = mn[j];
                }
                int at = g * m.rowBytes + b * (m.nibbles ? QK_K / 2 : QK_K);
                if (m.nibbles) {
                    for (int c = 0; c < QK_K; c += 64) {
                        for (int j = 0; j < 32; j++) m.quants[(at + c / 2 + j) * L + l] = (byte) (q[c + j] | q[c + 32 + j] << 4);
                    }
                } else {
                    for (int i = 0; i < QK_K; i++) m.quants[(at + i) * L + l] = q[i];
                }
            }
        }
        return m;
    }

    /**
     * The sub-block scales (or mins) {@code j} of super-block {@code sb} of a group's rows, as
     * floats. Loaded and converted in one method rather than through {@link Lanes#floats}, so
     * that the conversion always sees the byte vector's exact class: in slow Q5_K decode runs
     * (README, "Q5_K decode") the conversion behind {@code Lanes.floats} here ran in Java,
     * allocating; with this, those runs allocate at other vector operations of the mins.
     */
    FloatVector subBlockFloats(byte[] of, int sb, int j) {
        return (FloatVector) ByteVector.fromArray(Lanes.B, of, (sb * subBlocks + j) * L).convertShape(VectorOperators.B2F, F, 0);
    }

    private static final ThreadLocal<float[]> activationSums = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The activations' sum of the quants of each sub-block of {@code a}'s first {@code n} values
     * (Q8_K's sums of 16 added), as the mins take them: sub-block {@code i} at {@code i}. In the
     * calling thread's buffer, once per product, for the workers to read; every row group takes
     * the same sums.
     */
    float[] activationSums(QuantizedActivations a, int n) {
        float[] sums = WeightMatrix.atLeast(activationSums, n / subBlockValues);
        for (int i = 0; i < n / subBlockValues; i++) {
            int sum = 0;
            for (int k = i * subBlockValues / 16; k < (i + 1) * subBlockValues / 16; k++) sum += a.bsums[k];
            sums[i] = sum;
        }
        return sums;
    }

    /**
     * Group {@code g}'s rows times prepared Q8_K activations {@code [0, cols)}, whose
     * {@link #activationSums} are {@code subSums}, into {@code out[at, at + L)}.
     */
    void dot(int g, QuantizedActivations a, float[] subSums, float[] out, int at) {
        a.check(QuantizedActivations.VecDotType.Q8_K, 0, cols);
        // each layout stores its own result: a vector chosen by a branch, or returned from a call C2 does not inline, is boxed
        if (nibbles) dotNibbles(g, a, subSums, out, at);
        else dotBytes(g, a, subSums, out, at);
    }

    /**
     * Q4_K's nibbles: sub-blocks {@code j} and {@code j + 1} (j even) are the low and high
     * nibbles of the same 32 bytes, so one load serves both, and the shifts are by a constant
     * (taken a sub-block at a time, with a shift of {@code 4 * (j % 2)}, decode was 25 % slower).
     */
    private void dotNibbles(int g, QuantizedActivations a, float[] subSums, float[] out, int at) {
        float[] x = a.qsFloat;
        FloatVector sums = FloatVector.zero(F), sumf = FloatVector.zero(F);
        for (int b = 0; b < superBlocks; b++) {
            int sb = g * superBlocks + b;
            IntVector isum = IntVector.zero(I);
            FloatVector summs = FloatVector.zero(F);
            for (int j = 0; j < subBlocks; j += 2) {
                // sub-blocks j and j + 1: the low and high nibbles of the same 32 bytes
                int e0 = b * QK_K + j * 32, q = (g * rowBytes + b * (QK_K / 2) + 16 * j) * L;
                FloatVector lo = FloatVector.zero(F), hi = lo;
                for (int e = 0; e < 32; e++) {
                    ByteVector v = Lanes.bytes(quants, q + e * L);
                    lo = Lanes.floats(v.and((byte) 0x0F), 0).fma(FloatVector.broadcast(F, x[e0 + e]), lo);
                    hi = Lanes.floats(Lanes.shr(v, 4).and((byte) 0x0F), 0).fma(FloatVector.broadcast(F, x[e0 + 32 + e]), hi);
                }
                isum = isum.add((IntVector) lo.mul(subBlockFloats(scales, sb, j)).convert(VectorOperators.F2I, 0));
                isum = isum.add((IntVector) hi.mul(subBlockFloats(scales, sb, j + 1)).convert(VectorOperators.F2I, 0));
                summs = subBlockFloats(mins, sb, j).fma(FloatVector.broadcast(F, subSums[b * subBlocks + j]), summs);
                summs = subBlockFloats(mins, sb, j + 1).fma(FloatVector.broadcast(F, subSums[b * subBlocks + j + 1]), summs);
            }
            float dy = a.d[b];
            sums = FloatVector.fromArray(F, d, sb * L).mul(dy).mul((FloatVector) isum.convert(VectorOperators.I2F, 0)).add(sums);
            sumf = sumf.sub(FloatVector.fromArray(F, dmin, sb * L).mul(dy).mul(summs));
        }
        sumf.add(sums).intoArray(out, at);
    }

    /**
     * A byte per value (Q5_K, Q6_K); as {@link #dotNibbles} otherwise, but with the mins' terms
     * in a pass of their own (the same numbers in the same order: {@code sumf} never depends on
     * {@code sums}), which Q6_K, without mins, leaves out: its {@code sumf} would stay +0, and
     * {@code +0 + sums} is {@code sums} ({@code sums} is never -0: it starts at +0). Skipped by a
     * branch inside the loop, the running sums were boxed at every sub-block. (In some JVM runs
     * C2 still compiles this method without its vector intrinsics: README, "Q5_K decode".)
     */
    private void dotBytes(int g, QuantizedActivations a, float[] subSums, float[] out, int at) {
        float[] x = a.qsFloat;
        FloatVector sums = FloatVector.zero(F);
        for (int b = 0; b < superBlocks; b++) {
            int sb = g * superBlocks + b;
            IntVector isum = IntVector.zero(I);
            for (int j = 0; j < subBlocks; j++) {
                int e0 = b * QK_K + j * subBlockValues;
                int q = (g * rowBytes + e0) * L;
                FloatVector c = FloatVector.zero(F);
                for (int e = 0; e < subBlockValues; e++) c = Lanes.floats(Lanes.bytes(quants, q + e * L), 0).fma(FloatVector.broadcast(F, x[e0 + e]), c);
                isum = isum.add((IntVector) c.mul(subBlockFloats(scales, sb, j)).convert(VectorOperators.F2I, 0));
            }
            sums = FloatVector.fromArray(F, d, sb * L).mul(a.d[b]).mul((FloatVector) isum.convert(VectorOperators.I2F, 0)).add(sums);
        }
        if (!withMins) {
            sums.intoArray(out, at);
            return;
        }
        FloatVector sumf = FloatVector.zero(F);
        for (int b = 0; b < superBlocks; b++) {
            int sb = g * superBlocks + b;
            FloatVector summs = FloatVector.zero(F);
            for (int j = 0; j < subBlocks; j++) summs = subBlockFloats(mins, sb, j).fma(FloatVector.broadcast(F, subSums[b * subBlocks + j]), summs);
            sumf = sumf.sub(FloatVector.fromArray(F, dmin, sb * L).mul(a.d[b]).mul(summs));
        }
        sumf.add(sums).intoArray(out, at);
    }

    /**
     * Q4_K only: groups {@code g0} and {@code g1}'s quants (0..15) as shorts, side by side, for
     * {@link TiledProduct}'s 16-bit tile: value {@code k} of row {@code l} of {@code g0} into
     * {@code w[at + k * 2L + l]}, of {@code g1} into {@code w[at + k * 2L + L + l]}.
     */
    void unpackShorts(int g0, int g1, short[] w, int at) {
        if (!nibbles) throw new IllegalStateException("16-bit quants are for Q4_K only, not " + kernel.type());
        for (int half = 0; half < 2; half++) {
            int g = half == 0 ? g0 : g1;
            for (int b = 0; b < superBlocks; b++) {
                for (int j = 0; j < subBlocks; j += 2) {
                    int q = (g * rowBytes + b * (QK_K / 2) + 16 * j) * L, o = at + (b * QK_K + 32 * j) * 2 * L + half * L;
                    for (int e = 0; e < 32; e++) {
                        ByteVector v = Lanes.bytes(quants, q + e * L);
                        Lanes.shorts(v.and((byte) 0x0F), 0).intoArray(w, o + e * 2 * L);
                        Lanes.shorts(Lanes.shr(v, 4).and((byte) 0x0F), 0).intoArray(w, o + (32 + e) * 2 * L);
                    }
                }
            }
        }
    }

    /**
     * Group {@code g}'s quants times their sub-block scales, as floats (integers of at most 4096
     * in magnitude), for {@link TiledProduct}: value {@code k} of its row {@code l} into
     * {@code w[at + k * L + l]}.
     */
    void unpack(int g, float[] w, int at) {
        for (int b = 0; b < superBlocks; b++) {
            int sb = g * superBlocks + b;
            if (nibbles) {
                for (int j = 0; j < subBlocks; j += 2) {
                    FloatVector low = subBlockFloats(scales, sb, j), high = subBlockFloats(scales, sb, j + 1);
                    int q = (g * rowBytes + b * (QK_K / 2) + 16 * j) * L, o = at + (b * QK_K + 32 * j) * L;
                    for (int e = 0; e < 32; e++) {
                        ByteVector v = Lanes.bytes(quants, q + e * L);
                        Lanes.floats(v.and((byte) 0x0F), 0).mul(low).intoArray(w, o + e * L);
                        Lanes.floats(Lanes.shr(v, 4).and((byte) 0x0F), 0).mul(high).intoArray(w, o + (32 + e) * L);
                    }
                }
            } else {
                for (int j = 0; j < subBlocks; j++) {
                    FloatVector scale = subBlockFloats(scales, sb, j);
                    int q = (g * rowBytes + b * QK_K + j * subBlockValues) * L, o = at + (b * QK_K + j * subBlockValues) * L;
                    for (int e = 0; e < subBlockValues; e++) Lanes.floats(Lanes.bytes(quants, q + e * L), 0).mul(scale).intoArray(w, o + e * L);
                }
            }
        }
    }
}
