package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched products of Q4_0, Q5_0 and Q8_0 rows ({@link Int8BlockKernel}) with Q8_0 activation
 * vectors: a weight row is unpacked to its quants, as floats, once per batch, so each product is
 * FMAs alone instead of the unpacking that the kernel's {@code dot} does per vector; the
 * activations' quants are floats already ({@link QuantizedActivations#qsFloat}). A row then
 * serves four vectors at a time ({@link #dot4}).
 *
 * <p>The result is the kernel's {@code dot}, bit for bit: the same float lanes of {@link Lanes#F}
 * hold the same elements (lane {@code k} of a block: {@code k, k+L, ...}), their integer block
 * sums are exact in any order, and they are scaled, accumulated and added as the kernel does.
 */
final class BlockFloats {
    private BlockFloats() {}

    private static final int QK = Int8BlockKernel.QK;
    private static final VectorSpecies<Float> F = Lanes.F;
    private static final int M = Lanes.L;

    /**
     * Blocks {@code [firstBlock, firstBlock + n/32)} of {@code rows} unpacked: their quants into
     * {@code quants[at0, at0+n)} in element order, their scales into {@code scales[at0/32 ..]}.
     */
    static void unpackRow(Int8Rows rows, int firstBlock, int n, float[] quants, float[] scales, int at0) {
        int pb = rows.kernel.packedBytes();
        for (int b = 0; b < n / QK; b++) {
            scales[at0 / QK + b] = rows.scales[firstBlock + b];
            rows.kernel.unpack(rows.packed, (firstBlock + b) * pb, quants, at0 + b * QK);
        }
    }

    /**
     * The dot of an unpacked row ({@code w[wOffset, wOffset+n)}, its block scales from
     * {@code ws[wOffset/32]}) with unpacked activations {@code x[xOffset, xOffset+n)}, their
     * block scales from {@code xs[xOffset/32]}.
     */
    static float dot(float[] w, float[] ws, int wOffset, float[] x, float[] xs, int xOffset, int n) {
        FloatVector sum = FloatVector.zero(F);
        for (int b = 0; b < n / QK; b++) {
            int i = b * QK;
            FloatVector block = FloatVector.zero(F);
            for (int j = i; j < i + QK; j += M) block = FloatVector.fromArray(F, w, wOffset + j).fma(FloatVector.fromArray(F, x, xOffset + j), block);
            sum = block.fma(FloatVector.broadcast(F, ws[wOffset / QK + b] * xs[xOffset / QK + b]), sum);
        }
        return Vectors.sumLanes(F, sum);
    }

    /**
     * {@link #dot} of one unpacked row with four activation vectors at once, into {@code out[0..4)}:
     * each built exactly as {@code dot} builds it. The loop is kept this compact on purpose: C2
     * stops inlining in a method whose graph has grown past a node budget, and a lane sum at the
     * end that is not inlined boxes its vector on every call.
     */
    static void dot4(float[] w, float[] ws, int wOffset, float[] x, float[] xs, int off0, int off1, int off2, int off3, int n, float[] out) {
        FloatVector sum0 = FloatVector.zero(F), sum1 = FloatVector.zero(F), sum2 = FloatVector.zero(F), sum3 = FloatVector.zero(F);
        for (int b = 0; b < n / QK; b++) {
            int i = b * QK;
            FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
            for (int j = i; j < i + QK; j += M) {
                FloatVector wv = FloatVector.fromArray(F, w, wOffset + j);
                b0 = wv.fma(FloatVector.fromArray(F, x, off0 + j), b0);
                b1 = wv.fma(FloatVector.fromArray(F, x, off1 + j), b1);
                b2 = wv.fma(FloatVector.fromArray(F, x, off2 + j), b2);
                b3 = wv.fma(FloatVector.fromArray(F, x, off3 + j), b3);
            }
            float s = ws[wOffset / QK + b];
            sum0 = b0.fma(FloatVector.broadcast(F, s * xs[off0 / QK + b]), sum0);
            sum1 = b1.fma(FloatVector.broadcast(F, s * xs[off1 / QK + b]), sum1);
            sum2 = b2.fma(FloatVector.broadcast(F, s * xs[off2 / QK + b]), sum2);
            sum3 = b3.fma(FloatVector.broadcast(F, s * xs[off3 / QK + b]), sum3);
        }
        out[0] = Vectors.sumLanes(F, sum0);
        out[1] = Vectors.sumLanes(F, sum1);
        out[2] = Vectors.sumLanes(F, sum2);
        out[3] = Vectors.sumLanes(F, sum3);
    }
}
