package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

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
 *   <li>{@link #quants}, Q8_0 and Q5_0: group {@code g}, block {@code b} starts at
 *       {@code (g * blocks + b) * 32 * L}; quant {@code i} of row {@code g*L + l} at
 *       {@code + i * L + l}, one int8 per element (Q5_0's values widened from five bits).</li>
 *   <li>{@link #quants}, Q4_0: the stored bytes (element {@code j} in the low nibble of byte
 *       {@code j} and element {@code j + 16} in the high one) with each nibble turned into its
 *       value less 8 as a 4-bit two's complement (the byte exclusive-or {@code 0x88}), and the
 *       groups in pairs, two bytes of a row side by side: bytes {@code 2m} and {@code 2m + 1}
 *       of row {@code l} of group {@code 2p + h} at {@code ((p * blocks + b) * 8 + m) * 4L + 4l + 2h}
 *       and {@code + 1}. One load of {@code 4L} bytes is then a vector of {@code 2L} shorts, one
 *       per row of the pair (group {@code 2p} in the even lanes), each holding four of the row's
 *       values ({@link #dotNibblePair}).</li>
 *   <li>{@link #scales}: the block scale of row {@code g*L + l} at {@code (g * blocks + b) * L + l};
 *       for Q4_0, in the same pairs, at {@code ((p * blocks + b) * 2 + g % 2) * L + l}
 *       ({@link #scaleAt}), so that a decode reads one stream of scales as of quants.</li>
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
    /** Whether the groups are stored in pairs (Q4_0). */
    private final boolean paired;

    /** Room for {@code groups} groups of rows of {@code cols} values of {@code kernel}'s type. */
    RowGroups(Int8BlockKernel kernel, int cols, int groups) {
        this.kernel = kernel;
        this.cols = cols;
        this.blocks = cols / QK;
        this.groups = groups;
        this.bytes = kernel.groupedBytes();
        this.paired = isPaired(kernel);
        // a vector load at the last element reads up to one byte vector past it
        this.quants = new byte[Math.toIntExact((long) storedGroups(kernel, groups) * blocks * bytes * L + Lanes.BL)];
        this.scales = new float[storedGroups(kernel, groups) * blocks * L];
    }

    private static boolean isPaired(Int8BlockKernel kernel) {
        return kernel.groupedBytes() == QK / 2;
    }

    /** Groups of quants stored for {@code groups} groups: Q4_0's pairs round them up to even. */
    private static int storedGroups(Int8BlockKernel kernel, int groups) {
        return isPaired(kernel) ? (groups + 1) & ~1 : groups;
    }

    /** Heap bytes that a matrix of {@code rows x cols} takes here. */
    static long heapBytes(Int8BlockKernel kernel, int rows, int cols) {
        long blocks = cols / QK;
        return (long) storedGroups(kernel, groupsFor(rows)) * blocks * L * (kernel.groupedBytes() + Float.BYTES);
    }

    /** Whether a matrix of {@code rows x cols} fits in Java arrays in this layout. */
    static boolean fitsArrays(Int8BlockKernel kernel, int rows, int cols) {
        return (long) storedGroups(kernel, groupsFor(rows)) * (cols / QK) * kernel.groupedBytes() * L <= Integer.MAX_VALUE - 64;
    }

    /** Where byte {@code i} of block {@code b} of row {@code l} of group {@code g} is in {@link #quants}. */
    private int quantAt(int g, int b, int i, int l) {
        if (paired) return (((g >> 1) * blocks + b) * (bytes / 2) + i / 2) * 4 * L + 4 * l + 2 * (g & 1) + (i & 1);
        return ((g * blocks + b) * bytes + i) * L + l;
    }

    /** Where the scale of block {@code b} of group {@code g}'s rows starts in {@link #scales} ({@link #scaleStride} on per block). */
    int scaleAt(int g, int b) {
        if (paired) return (((g >> 1) * blocks + b) * 2 + (g & 1)) * L;
        return (g * blocks + b) * L;
    }

    /** How far apart a group's scales of consecutive blocks are in {@link #scales}. */
    int scaleStride() {
        return paired ? 2 * L : L;
    }

    /**
     * The groups that one {@link #dot} computes: two for Q4_0, whose groups are stored in pairs
     * (a dot then starts at an even group), else one.
     */
    int groupsPerDot() {
        return paired ? 2 : 1;
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
        int stored = kernel.blockBytes();
        byte[] block = new byte[bytes];
        // Q4_0's nibbles become their values less 8 in two's complement: n - 8 = n ^ 8 in four bits
        byte flip = (byte) (paired ? 0x88 : 0);
        for (int g = 0; g < groups; g++) {
            for (int l = 0; l < L; l++) {
                int r = (firstGroup + g) * L + l;
                for (int b = 0; b < blocks; b++) {
                    int s = scaleAt(g, b) + l;
                    if (r >= rows) {
                        for (int i = 0; i < bytes; i++) quants[quantAt(g, b, i, l)] = 0;
                        scales[s] = 0f;
                        continue;
                    }
                    long off = ((long) r * blocks + b) * stored;
                    scales[s] = kernel.scale(data, off);
                    kernel.groupedQuants(data, off, block, 0, 1);
                    for (int i = 0; i < bytes; i++) quants[quantAt(g, b, i, l)] = (byte) (block[i] ^ flip);
                }
            }
        }
    }

    /**
     * The rows of the {@link #groupsPerDot} groups from {@code g} (those held) times prepared
     * Q8_0 activations {@code [aOffset, aOffset + cols)}, into {@code out[at, at + L)} and, for
     * a second group, {@code out[at + L, at + 2L)}.
     */
    void dot(int g, QuantizedActivations a, int aOffset, float[] out, int at) {
        a.check(QuantizedActivations.VecDotType.Q8_0, aOffset, cols);
        if (g % groupsPerDot() != 0) throw new IllegalArgumentException("group " + g + " does not start a pair");
        // each kernel stores its own result: a vector returned from a call that C2 does not inline is boxed
        if (paired) dotNibblePair(g, a.qs16, a.d, aOffset, out, at);
        else dotBytes(g, a.qsFloat, a.d, aOffset, out, at);
    }

    /** One int8 quant per element: four chains of FMAs per block, added (exactly) at its end. */
    private void dotBytes(int g, float[] x, float[] xd, int aOffset, float[] out, int at) {
        FloatVector sum = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int q = quantAt(g, b, 0, 0), xb = aOffset + b * QK;
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            for (int k = 0; k < QK; k += 4) {
                c0 = Lanes.floats(Lanes.bytes(quants, q + k * L), 0).fma(FloatVector.broadcast(F, x[xb + k]), c0);
                c1 = Lanes.floats(Lanes.bytes(quants, q + (k + 1) * L), 0).fma(FloatVector.broadcast(F, x[xb + k + 1]), c1);
                c2 = Lanes.floats(Lanes.bytes(quants, q + (k + 2) * L), 0).fma(FloatVector.broadcast(F, x[xb + k + 2]), c2);
                c3 = Lanes.floats(Lanes.bytes(quants, q + (k + 3) * L), 0).fma(FloatVector.broadcast(F, x[xb + k + 3]), c3);
            }
            FloatVector scale = FloatVector.fromArray(F, scales, scaleAt(g, b)).mul(xd[xb / QK]);
            sum = c0.add(c1).add(c2.add(c3)).fma(scale, sum);
        }
        sum.intoArray(out, at);
    }

    /** A load of {@link #dotNibblePair}: two bytes of each row of a pair of groups. */
    private static final VectorSpecies<Byte> PAIR_BYTES = F.withLanes(byte.class);
    /** The same load as shorts, one lane per row of the pair, group {@code 2p} in the even lanes. */
    private static final VectorSpecies<Short> PAIR_SHORTS = F.withLanes(short.class);
    /**
     * The shift counts of the 16-bit Q4_0 kernels (here and in {@link TiledProduct}), read from
     * an array: written as constants, C2 loaded each count into a register again before every
     * shift of a loop.
     */
    static final int[] NIBBLE_SHIFTS = {4, 8, 12, 16};

    /**
     * Q4_0, groups {@code g} and {@code g + 1} at once, in 16-bit lanes. Each load holds four
     * values of every row of the pair, as 4-bit two's complements of {@code q - 8}: shifted up to
     * the top of the lane and arithmetically back down, each is a short from -8 to 7, which
     * multiplies the activation quant (-127..127) as a short. A block's whole sum is at most
     * {@code 32 * 8 * 127 = 32512} in magnitude, so the four running sums, added in 16-bit
     * arithmetic that wraps, end in the exact sum (only the end needs to fit); each int lane of
     * that vector then holds an even row's sum in its low half and the odd row's in its high one.
     * This takes under half the instructions of a nibble widened from a byte per load: a decode
     * product is bound by them rather than by memory.
     */
    private void dotNibblePair(int g, short[] x, float[] xd, int aOffset, float[] out, int at) {
        int four = NIBBLE_SHIFTS[0], eight = NIBBLE_SHIFTS[1], twelve = NIBBLE_SHIFTS[2], sixteen = NIBBLE_SHIFTS[3];
        FloatVector sum0 = FloatVector.zero(F), sum1 = sum0;
        for (int b = 0; b < blocks; b++) {
            int q = quantAt(g, b, 0, 0), xb = aOffset + b * QK;
            ShortVector c0 = ShortVector.zero(PAIR_SHORTS), c1 = c0, c2 = c0, c3 = c0;
            for (int m = 0; m < QK / 4; m++) {
                ShortVector v = ByteVector.fromArray(PAIR_BYTES, quants, q + m * 4 * L).reinterpretAsShorts();
                int k = xb + 2 * m;
                c0 = v.lanewise(VectorOperators.LSHL, twelve).lanewise(VectorOperators.ASHR, twelve).mul(x[k]).add(c0);
                c1 = v.lanewise(VectorOperators.LSHL, eight).lanewise(VectorOperators.ASHR, twelve).mul(x[k + QK / 2]).add(c1);
                c2 = v.lanewise(VectorOperators.LSHL, four).lanewise(VectorOperators.ASHR, twelve).mul(x[k + 1]).add(c2);
                c3 = v.lanewise(VectorOperators.ASHR, twelve).mul(x[k + QK / 2 + 1]).add(c3);
            }
            IntVector both = c0.add(c1).add(c2.add(c3)).reinterpretAsInts();
            IntVector even = both.lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen);
            IntVector odd = both.lanewise(VectorOperators.ASHR, sixteen);
            float e = xd[xb / QK];
            int s = scaleAt(g, b);
            sum0 = ((FloatVector) even.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, scales, s).mul(e), sum0);
            sum1 = ((FloatVector) odd.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, scales, s + L).mul(e), sum1);
        }
        sum0.intoArray(out, at);
        if (g + 1 < groups) sum1.intoArray(out, at + L);
    }

    /** {@link #unpackShorts} of a pair's even group twice (an odd count's last group): each odd lane repeats the even one below it. */
    private static final VectorShuffle<Short> EVEN_GROUP_TWICE = VectorShuffle.fromOp(PAIR_SHORTS, i -> i & ~1);

    /**
     * Q4_0 only: groups {@code g0} and {@code g1}'s quants less 8 as shorts, in the lanes of
     * {@link #dotNibblePair}, for {@link TiledProduct}'s 16-bit tile: element {@code k} of row
     * {@code l} of {@code g0} into {@code w[at + k * 2L + 2l]}, of {@code g1} into {@code + 1}.
     * {@code g0} is even and {@code g1} is {@code g0 + 1}, or {@code g0} again.
     */
    void unpackShorts(int g0, int g1, short[] w, int at) {
        if (!paired) throw new IllegalStateException("16-bit quants are for Q4_0 only, not " + kernel.type());
        if (g0 % 2 != 0 || (g1 != g0 && g1 != g0 + 1)) throw new IllegalArgumentException("groups " + g0 + " and " + g1 + " are not a stored pair");
        int four = NIBBLE_SHIFTS[0], eight = NIBBLE_SHIFTS[1], twelve = NIBBLE_SHIFTS[2];
        for (int b = 0; b < blocks; b++) {
            int q = quantAt(g0, b, 0, 0), o = at + b * QK * 2 * L;
            for (int m = 0; m < QK / 4; m++) {
                ShortVector v = ByteVector.fromArray(PAIR_BYTES, quants, q + m * 4 * L).reinterpretAsShorts();
                if (g1 == g0) v = v.rearrange(EVEN_GROUP_TWICE);
                int k = o + 2 * m * 2 * L;
                v.lanewise(VectorOperators.LSHL, twelve).lanewise(VectorOperators.ASHR, twelve).intoArray(w, k);
                v.lanewise(VectorOperators.LSHL, eight).lanewise(VectorOperators.ASHR, twelve).intoArray(w, k + QK / 2 * 2 * L);
                v.lanewise(VectorOperators.LSHL, four).lanewise(VectorOperators.ASHR, twelve).intoArray(w, k + 2 * L);
                v.lanewise(VectorOperators.ASHR, twelve).intoArray(w, k + (QK / 2 + 1) * 2 * L);
            }
        }
    }

    /**
     * Group {@code g}'s quants as floats, for {@link TiledProduct}'s float tile (Q8_0, Q5_0; Q4_0
     * takes {@link #unpackShorts}): element {@code k} of its row {@code l} into {@code w[at + k * L + l]}.
     */
    void unpack(int g, float[] w, int at) {
        if (bytes != QK) throw new IllegalStateException("float quants are for a byte per value, not " + kernel.type());
        for (int b = 0; b < blocks; b++) {
            int o = at + b * QK * L;
            for (int k = 0; k < QK; k++) Lanes.floats(Lanes.bytes(quants, quantAt(g, b, k, 0)), 0).intoArray(w, o + k * L);
        }
    }
}
