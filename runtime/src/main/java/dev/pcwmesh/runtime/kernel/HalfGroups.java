package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

import java.lang.foreign.MemorySegment;

import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;

/**
 * An F16 or BF16 matrix repacked at load into groups of {@link Lanes#L} rows whose elements are
 * interleaved, as {@link RowGroups} does for the int8 block types: element {@code k} of row
 * {@code g * L + l} is at {@code (g * cols + k) * L + l} of {@link #halves} (the stored bits). A
 * product runs down the rows, one row per lane: decode widens L values at a time in registers
 * ({@link BF16Kernel#widen}: a shift; {@link F16Kernel#widen}: bit operations and a scale),
 * prefill widens whole groups once per batch ({@link #unpack}).
 *
 * <p>Every product of a row and a vector, here, in {@link TiledProduct#multiplyHalves} and in
 * the kernels' own {@code dot}, is one chain of fused multiply-adds in element order,
 * {@code sum = fma(w[k], x[k], sum)} from {@code sum = 0}, so decode and batched prefill agree
 * bit for bit. The last group is filled up with rows of zeros.
 */
final class HalfGroups {
    /** Whether the bits are bfloat16 rather than IEEE half precision. */
    final boolean bf16;
    final int cols;
    final int groups;
    final short[] halves;

    /** Room for {@code groups} groups of rows of {@code cols} values, bf16 or f16. */
    HalfGroups(boolean bf16, int cols, int groups) {
        this.bf16 = bf16;
        this.cols = cols;
        this.groups = groups;
        this.halves = new short[Math.toIntExact((long) groups * cols * L)];
    }

    /** Heap bytes that a matrix of {@code rows x cols} takes here. */
    static long heapBytes(int rows, int cols) {
        return (long) RowGroups.groupsFor(rows) * cols * L * Short.BYTES;
    }

    /** Whether a matrix of {@code rows x cols} fits in one Java array in this layout. */
    static boolean fitsArrays(int rows, int cols) {
        return (long) RowGroups.groupsFor(rows) * cols * L <= Integer.MAX_VALUE - 64;
    }

    /** The whole matrix of {@code rows x cols} stored in {@code data}, repacked. */
    static HalfGroups of(boolean bf16, MemorySegment data, int rows, int cols) {
        HalfGroups m = new HalfGroups(bf16, cols, RowGroups.groupsFor(rows));
        m.fill(data, rows, 0);
        return m;
    }

    /**
     * Overwrites every group held with groups {@code [firstGroup, firstGroup + groups)} of the
     * matrix of {@code rows} rows stored in {@code data}; rows past its end are zeros.
     */
    void fill(MemorySegment data, int rows, int firstGroup) {
        short[] row = rowBuffer.get().length >= cols ? rowBuffer.get() : new short[cols];
        rowBuffer.set(row);
        for (int g = 0; g < groups; g++) {
            for (int l = 0; l < L; l++) {
                int r = (firstGroup + g) * L + l, at = g * cols * L + l;
                if (r >= rows) {
                    for (int k = 0; k < cols; k++) halves[at + k * L] = 0;
                    continue;
                }
                // one bulk copy of the row, then the interleaving stores: 5.6 GB/s in a one-thread decode from the
                // mapping, where a get per element gave 3.5 (and the row-by-row kernel before the groups 0.8-1.4)
                MemorySegment.copy(data, Lanes.LE16, (long) r * cols * Short.BYTES, row, 0, cols);
                for (int k = 0; k < cols; k++) halves[at + k * L] = row[k];
            }
        }
    }

    private static final ThreadLocal<short[]> rowBuffer = ThreadLocal.withInitial(() -> new short[0]);

    /** Group {@code g}'s rows times {@code x[xOff, xOff + cols)} (activations rounded to the type), into {@code out[at, at + L)}. */
    void dot(int g, float[] x, int xOff, float[] out, int at) {
        FloatVector sum = FloatVector.zero(F);
        int base = g * cols * L;
        // one loop per type rather than a test per element
        if (bf16) {
            for (int k = 0; k < cols; k++) sum = BF16Kernel.widen(halves(base + k * L), 0).fma(FloatVector.broadcast(F, x[xOff + k]), sum);
        } else {
            for (int k = 0; k < cols; k++) sum = F16Kernel.widen(halves(base + k * L)).fma(FloatVector.broadcast(F, x[xOff + k]), sum);
        }
        sum.intoArray(out, at);
    }

    /** The L values at {@code at}. */
    private ShortVector halves(int at) {
        return ShortVector.fromArray(BF16Kernel.S, halves, at);
    }

    /** Group {@code g} widened to floats: element {@code k} of its row {@code l} into {@code w[at + k * L + l]}. */
    void unpack(int g, float[] w, int at) {
        widen(g * cols * L, w, at, cols * L);
    }

    /**
     * {@code n} values from {@code halves[from..]} as floats into {@code dst[at..]} ({@code n} a
     * multiple of L). F16 by {@link Float#float16ToFloat} in a plain loop, which C2 compiles to
     * the CPU's conversion instruction: the same floats as {@link F16Kernel#widen} (NaNs aside),
     * and in prefill, where a group is widened once per batch, pp512 was 13 % higher than with
     * the lanes (SmolLM2 F16, two alternations).
     */
    private void widen(int from, float[] dst, int at, int n) {
        if (bf16) {
            for (int i = 0; i < n; i += L) BF16Kernel.widen(halves(from + i), 0).intoArray(dst, at + i);
        } else {
            for (int i = 0; i < n; i++) dst[at + i] = Float.float16ToFloat(halves[from + i]);
        }
    }
}
