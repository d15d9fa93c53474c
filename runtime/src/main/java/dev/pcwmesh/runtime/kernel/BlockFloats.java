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

    /**
     * {@link #dot4} of two unpacked rows ({@code w} at {@code wOffset0} and {@code wOffset1}) with
     * the same four vectors, into {@code out[0..4)} and {@code out[4..8)}: each load of an
     * activation vector then serves two rows, which halves the loads per FMA (with one row, four
     * vectors take five loads per four FMAs, more than a core's load ports give). Sixteen
     * accumulators: for AVX-512's 32 vector registers ({@link #TWO_ROWS}). The eight row sums go
     * through {@code lanes} ({@code 8 * L} floats) to {@link Vectors#sumStoredLanes}: eight lane sums inlined
     * here would take this method past C2's inlining node budget, and the ones left out would box
     * their vectors.
     */
    static void dot2x4(float[] w, float[] ws, int wOffset0, int wOffset1, float[] x, float[] xs, int off0, int off1, int off2, int off3, int n,
                       float[] out, float[] lanes) {
        FloatVector s00 = FloatVector.zero(F), s01 = FloatVector.zero(F), s02 = FloatVector.zero(F), s03 = FloatVector.zero(F);
        FloatVector s10 = FloatVector.zero(F), s11 = FloatVector.zero(F), s12 = FloatVector.zero(F), s13 = FloatVector.zero(F);
        for (int b = 0; b < n / QK; b++) {
            int i = b * QK;
            FloatVector b00 = FloatVector.zero(F), b01 = FloatVector.zero(F), b02 = FloatVector.zero(F), b03 = FloatVector.zero(F);
            FloatVector b10 = FloatVector.zero(F), b11 = FloatVector.zero(F), b12 = FloatVector.zero(F), b13 = FloatVector.zero(F);
            for (int j = i; j < i + QK; j += M) {
                FloatVector w0 = FloatVector.fromArray(F, w, wOffset0 + j), w1 = FloatVector.fromArray(F, w, wOffset1 + j);
                FloatVector x0 = FloatVector.fromArray(F, x, off0 + j);
                b00 = w0.fma(x0, b00);
                b10 = w1.fma(x0, b10);
                FloatVector x1 = FloatVector.fromArray(F, x, off1 + j);
                b01 = w0.fma(x1, b01);
                b11 = w1.fma(x1, b11);
                FloatVector x2 = FloatVector.fromArray(F, x, off2 + j);
                b02 = w0.fma(x2, b02);
                b12 = w1.fma(x2, b12);
                FloatVector x3 = FloatVector.fromArray(F, x, off3 + j);
                b03 = w0.fma(x3, b03);
                b13 = w1.fma(x3, b13);
            }
            float r0 = ws[wOffset0 / QK + b], r1 = ws[wOffset1 / QK + b];
            float t0 = xs[off0 / QK + b], t1 = xs[off1 / QK + b], t2 = xs[off2 / QK + b], t3 = xs[off3 / QK + b];
            s00 = b00.fma(FloatVector.broadcast(F, r0 * t0), s00);
            s01 = b01.fma(FloatVector.broadcast(F, r0 * t1), s01);
            s02 = b02.fma(FloatVector.broadcast(F, r0 * t2), s02);
            s03 = b03.fma(FloatVector.broadcast(F, r0 * t3), s03);
            s10 = b10.fma(FloatVector.broadcast(F, r1 * t0), s10);
            s11 = b11.fma(FloatVector.broadcast(F, r1 * t1), s11);
            s12 = b12.fma(FloatVector.broadcast(F, r1 * t2), s12);
            s13 = b13.fma(FloatVector.broadcast(F, r1 * t3), s13);
        }
        s00.intoArray(lanes, 0);
        s01.intoArray(lanes, M);
        s02.intoArray(lanes, 2 * M);
        s03.intoArray(lanes, 3 * M);
        s10.intoArray(lanes, 4 * M);
        s11.intoArray(lanes, 5 * M);
        s12.intoArray(lanes, 6 * M);
        s13.intoArray(lanes, 7 * M);
        Vectors.sumStoredLanes(lanes, 8, out);
    }

    /** Whether {@link WeightMatrix#matMul} takes two rows at a time ({@link #dot2x4}): with 16-lane (512-bit) vectors, whose ISA has 32 registers. */
    static final boolean TWO_ROWS = M == 16;
}
