package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;

/**
 * An F16 or BF16 matrix repacked at load into groups of {@link Lanes#L} rows whose elements are
 * interleaved, as {@link RowGroups} does for the int8 block types, and the groups stored in pairs:
 * element {@code k} of row {@code g * L + l} is at {@code ((g / 2 * cols + k) * 2 + g % 2) * L + l}
 * of {@link #halves} (the stored bits). A product runs down the rows, one row per lane: decode
 * widens L values of each group of a pair at a time in registers ({@link BF16Kernel#widen}: a
 * shift; {@link F16Kernel#widen}: bit operations and a scale), prefill widens whole groups once
 * per batch ({@link #unpack}).
 *
 * <p>Why pairs: one chain of fused multiply-adds per group waits on its own latency (4 cycles
 * for 32 bytes of weights, under what a core reads), so decode runs two groups' chains at once
 * ({@link #dotPair}); stored apart, the two groups were two streams, and a 49152 x 576 product
 * fell from 18.5 to 14.8 GFLOP/s, where one stream of pairs gives both chains their data. With
 * both chains running, the widening is what a core waits on; F16 groups holding no infinity or
 * NaN ({@link #finite}, as weights do) take {@link F16Kernel#widenFinite}, the same floats in
 * four instructions instead of nine.
 *
 * <p>Every product of a row and a vector, here, in {@link TiledProduct#multiplyHalves} and in
 * the kernels' own {@code dot}, is one chain of fused multiply-adds in element order,
 * {@code sum = fma(w[k], x[k], sum)} from {@code sum = 0}, so decode and batched prefill agree
 * bit for bit. The last group is filled up with rows of zeros.
 */
final class HalfGroups {
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Whether the bits are bfloat16 rather than IEEE half precision. */
    final boolean bf16;
    final int cols;
    final int groups;
    final short[] halves;
    /** Whether every half held is finite (F16; BF16 widens by a shift whatever it holds), so that decode may take {@link F16Kernel#widenFinite}. */
    private boolean finite;

    /** Room for {@code groups} groups of rows of {@code cols} values, bf16 or f16. */
    HalfGroups(boolean bf16, int cols, int groups) {
        this.bf16 = bf16;
        this.cols = cols;
        this.groups = groups;
        this.halves = new short[Math.toIntExact((long) storedGroups(groups) * cols * L)];
    }

    /** Groups stored for {@code groups}: a whole number of pairs. */
    private static int storedGroups(int groups) {
        return (groups + 1) & ~1;
    }

    /** Where element {@code k} of group {@code g}'s rows is in {@link #halves}: its L lanes from there. */
    private int at(int g, int k) {
        return (((g >> 1) * cols + k) * 2 + (g & 1)) * L;
    }

    /** Heap bytes that a matrix of {@code rows x cols} takes here. */
    static long heapBytes(int rows, int cols) {
        return (long) storedGroups(RowGroups.groupsFor(rows)) * cols * L * Short.BYTES;
    }

    /** Whether a matrix of {@code rows x cols} fits in one Java array in this layout. */
    static boolean fitsArrays(int rows, int cols) {
        return (long) storedGroups(RowGroups.groupsFor(rows)) * cols * L <= Integer.MAX_VALUE - 64;
    }

    /** The whole matrix of {@code rows x cols} stored in {@code data}, repacked. */
    static HalfGroups of(boolean bf16, MemorySegment data, int rows, int cols) {
        HalfGroups m = new HalfGroups(bf16, cols, RowGroups.groupsFor(rows));
        m.fill(data, rows, 0);
        return m;
    }

    /**
     * Overwrites the first {@code groups} groups held with groups {@code [firstGroup, firstGroup + groups)} of the
     * matrix of {@code rows} rows stored in {@code data}; rows past its end are zeros.
     */
    void fill(MemorySegment data, int rows, int firstGroup) {
        short[] row = rowBuffer.get().length >= cols ? rowBuffer.get() : new short[cols];
        rowBuffer.set(row);
        boolean special = false;
        for (int g = 0; g < groups; g++) {
            for (int l = 0; l < L; l++) {
                int r = (firstGroup + g) * L + l, at = at(g, 0) + l;
                if (r >= rows) {
                    for (int k = 0; k < cols; k++) halves[at + k * 2 * L] = 0;
                    continue;
                }
                // one bulk copy of the row, then the interleaving stores: 5.6 GB/s in a one-thread decode from the
                // mapping, where a get per element gave 3.5 (and the row-by-row kernel before the groups 0.8-1.4)
                MemorySegment.copy(data, Lanes.LE16, (long) r * cols * Short.BYTES, row, 0, cols);
                for (int k = 0; k < cols; k++) halves[at + k * 2 * L] = row[k];
                if (!bf16) for (int k = 0; k < cols; k++) special |= F16Kernel.isSpecial(row[k]);
            }
        }
        finite = !special;
    }

    private static final ThreadLocal<short[]> rowBuffer = ThreadLocal.withInitial(() -> new short[0]);

    /** Group {@code g}'s rows times {@code x[xOff, xOff + cols)} (activations rounded to the type), into {@code out[at, at + L)}. */
    void dot(int g, float[] x, int xOff, float[] out, int at) {
        FloatVector sum = FloatVector.zero(F);
        int base = at(g, 0);
        // one loop per type rather than a test per element
        if (bf16) {
            for (int k = 0; k < cols; k++) sum = BF16Kernel.widen(halves(base + k * 2 * L), 0).fma(FloatVector.broadcast(F, x[xOff + k]), sum);
        } else if (finite) {
            for (int k = 0; k < cols; k++) {
                // F16Kernel.widenFinite written out: through the helper (38 bytes, over C2's limit for a call it does not
                // find hot) C2 sometimes left the conversions unintrinsified, and SmolLM2 F16 decode fell by a quarter
                IntVector h = (IntVector) halves(base + k * 2 * L).convertShape(VectorOperators.S2I, I, 0);
                FloatVector w = h.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretAsFloats().mul(0x1p112f);
                sum = w.fma(FloatVector.broadcast(F, x[xOff + k]), sum);
            }
        } else {
            for (int k = 0; k < cols; k++) sum = F16Kernel.widen(halves(base + k * 2 * L)).fma(FloatVector.broadcast(F, x[xOff + k]), sum);
        }
        sum.intoArray(out, at);
    }

    /**
     * {@link #dot} for the pair of groups {@code g} (even) and {@code g + 1}, into
     * {@code out[at, at + 2L)}: the same two chains, each in element order, run side by side
     * from one stream, and one broadcast of each activation serves both.
     */
    void dotPair(int g, float[] x, int xOff, float[] out, int at) {
        FloatVector sum0 = FloatVector.zero(F), sum1 = sum0;
        int base = at(g, 0);
        if (bf16) {
            for (int k = 0; k < cols; k++) {
                FloatVector y = FloatVector.broadcast(F, x[xOff + k]);
                sum0 = BF16Kernel.widen(halves(base + k * 2 * L), 0).fma(y, sum0);
                sum1 = BF16Kernel.widen(halves(base + k * 2 * L + L), 0).fma(y, sum1);
            }
        } else if (finite) {
            int touched = 0, last = halves.length - 1;
            for (int k = 0; k < cols; k++) {
                touched ^= halves[Math.min(base + k * 2 * L + Lanes.PREFETCH_BYTES / Short.BYTES, last)];
                FloatVector y = FloatVector.broadcast(F, x[xOff + k]);
                // F16Kernel.widenFinite written out, as in dot
                IntVector h0 = (IntVector) halves(base + k * 2 * L).convertShape(VectorOperators.S2I, I, 0);
                IntVector h1 = (IntVector) halves(base + k * 2 * L + L).convertShape(VectorOperators.S2I, I, 0);
                sum0 = h0.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretAsFloats().mul(0x1p112f).fma(y, sum0);
                sum1 = h1.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretAsFloats().mul(0x1p112f).fma(y, sum1);
            }
            Lanes.keep(touched);
        } else {
            for (int k = 0; k < cols; k++) {
                FloatVector y = FloatVector.broadcast(F, x[xOff + k]);
                sum0 = F16Kernel.widen(halves(base + k * 2 * L)).fma(y, sum0);
                sum1 = F16Kernel.widen(halves(base + k * 2 * L + L)).fma(y, sum1);
            }
        }
        sum0.intoArray(out, at);
        sum1.intoArray(out, at + L);
    }

    /** The L values at {@code at}. */
    private ShortVector halves(int at) {
        return ShortVector.fromArray(BF16Kernel.S, halves, at);
    }

    /** Group {@code g} widened to floats: element {@code k} of its row {@code l} into {@code w[at + k * L + l]}. */
    void unpack(int g, float[] w, int at) {
        int base = at(g, 0);
        if (bf16) {
            for (int k = 0; k < cols; k++) BF16Kernel.widen(halves(base + k * 2 * L), 0).intoArray(w, at + k * L);
        } else if (finite) {
            for (int k = 0; k < cols; k++) {
                // F16Kernel.widenFinite written out, as in dot
                IntVector h = (IntVector) halves(base + k * 2 * L).convertShape(VectorOperators.S2I, I, 0);
                h.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretAsFloats().mul(0x1p112f).intoArray(w, at + k * L);
            }
        } else {
            for (int k = 0; k < cols; k++) {
                for (int l = 0; l < L; l++) w[at + k * L + l] = Float.float16ToFloat(halves[base + k * 2 * L + l]);
            }
        }
    }
}
