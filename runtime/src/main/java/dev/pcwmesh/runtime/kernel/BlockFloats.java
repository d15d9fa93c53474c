package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * Batched products of Q4_0, Q5_0 and Q8_0 rows ({@link Int8BlockKernel}) with Q8_0 activation
 * vectors, taken in float lanes: a weight row is unpacked to its int8 quants, as floats, once per
 * batch, and the activations once per batch, so each product is FMAs alone instead of the
 * unpacking, widening, multiplying and pairing of int8 lanes that the kernel's {@code dot} does
 * per vector. A row then serves four vectors at a time ({@link #dot4}).
 *
 * <p>The result is the kernel's {@code dot}, bit for bit. A product of two quants is an integer
 * of at most 2^14 in magnitude and a lane adds at most eight of them per block, so float FMAs add
 * them exactly, in any order. An unpacked block holds in float lane {@code k} exactly the
 * elements whose products {@link Int8Lanes} adds in int lane {@code k} (see {@link #put}), so
 * each lane's block sum is the same integer; it is scaled and accumulated as
 * {@link Int8Lanes#accumulate} does, and the lanes are added in the same order at the end.
 */
final class BlockFloats {
    private BlockFloats() {}

    private static final int QK = Int8BlockKernel.QK;
    /** Int8Lanes' chunk: elements per load. */
    private static final int N = Int8Lanes.N;
    /** Float lanes, as many as Int8Lanes has int lanes ({@code N / 2}). */
    private static final VectorSpecies<Float> FI = Int8Lanes.FI;
    private static final int M = FI.length();

    /** A chunk's even elements, then its odd ones. */
    private static final VectorShuffle<Byte> EVENS_THEN_ODDS =
            VectorShuffle.fromOp(Int8Lanes.B, i -> i < N / 2 ? 2 * i : 2 * (i - N / 2) + 1);

    /**
     * A chunk of {@code N} quants as floats at {@code dst[at, at+N)}: its even elements, then its
     * odd ones. Int8Lanes multiplies a chunk at {@code o} (and the one at {@code 16+o}) and adds
     * adjacent products ({@link Int8Lanes#pairs}), so its int lane {@code k} holds elements
     * {@code o+2k} and {@code o+2k+1}: float lane {@code k} of the two halves written here.
     */
    private static void put(ByteVector chunk, float[] dst, int at) {
        ByteVector evensThenOdds = chunk.rearrange(EVENS_THEN_ODDS);
        ((FloatVector) evensThenOdds.convertShape(VectorOperators.B2F, FI, 0)).intoArray(dst, at);
        ((FloatVector) evensThenOdds.convertShape(VectorOperators.B2F, FI, 1)).intoArray(dst, at + M);
    }

    /**
     * Stored values {@code [first, first+n)} unpacked: into {@code quants[at0, at0+n)} in lane
     * order (per block, the chunks at {@code o} and {@code 16+o} for each {@code o}, as the
     * kernels' dots take them), their block scales into {@code scales[at0/32 ..]}.
     */
    static void unpackRow(Int8BlockKernel k, MemorySegment data, long first, int n, float[] quants, float[] scales, int at0) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * k.blockBytes();
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * k.blockBytes();
            scales[at0 / QK + b] = k.scale(data, off);
            for (int o = 0, at = at0 + b * QK; o < QK / 2; o += N, at += 2 * N) {
                put(k.quants(data, off, o), quants, at);
                put(k.quants(data, off, QK / 2 + o), quants, at + N);
            }
        }
    }

    /** Prepared Q8_0 activations {@code [0, n)} unpacked into {@code quants[0, n)} in the same lane order; their scales stay in {@code a.d}. */
    static void unpackActivations(QuantizedActivations a, int n, float[] quants) {
        a.check(QuantizedActivations.VecDotType.Q8_0, 0, n);
        for (int b = 0; b < n / QK; b++) {
            for (int o = 0, at = b * QK; o < QK / 2; o += N, at += 2 * N) {
                put(ByteVector.fromArray(Int8Lanes.B, a.qs, b * QK + o), quants, at);
                put(ByteVector.fromArray(Int8Lanes.B, a.qs, b * QK + QK / 2 + o), quants, at + N);
            }
        }
    }

    /**
     * The dot of an unpacked row ({@code w[wOffset, wOffset+n)}, its block scales from
     * {@code ws[wOffset/32]}) with unpacked activations {@code x[xOffset, xOffset+n)}, their
     * block scales from {@code xs[xOffset/32]}.
     */
    static float dot(float[] w, float[] ws, int wOffset, float[] x, float[] xs, int xOffset, int n) {
        FloatVector sum = FloatVector.zero(FI);
        for (int b = 0; b < n / QK; b++) {
            int i = b * QK;
            FloatVector block = FloatVector.fromArray(FI, w, wOffset + i).mul(FloatVector.fromArray(FI, x, xOffset + i));
            for (int j = M; j < QK; j += M) block = FloatVector.fromArray(FI, w, wOffset + i + j).fma(FloatVector.fromArray(FI, x, xOffset + i + j), block);
            sum = block.fma(FloatVector.broadcast(FI, ws[wOffset / QK + b] * xs[xOffset / QK + b]), sum);
        }
        return Vectors.sumLanes(FI, sum);
    }

    /** {@link #dot} of one unpacked row with four activation vectors at once, into {@code out[0..4)}: each built exactly as {@code dot} builds it. */
    static void dot4(float[] w, float[] ws, int wOffset, float[] x, float[] xs, int off0, int off1, int off2, int off3, int n, float[] out) {
        FloatVector sum0 = FloatVector.zero(FI), sum1 = FloatVector.zero(FI), sum2 = FloatVector.zero(FI), sum3 = FloatVector.zero(FI);
        for (int b = 0; b < n / QK; b++) {
            int i = b * QK;
            FloatVector wv = FloatVector.fromArray(FI, w, wOffset + i);
            FloatVector b0 = wv.mul(FloatVector.fromArray(FI, x, off0 + i));
            FloatVector b1 = wv.mul(FloatVector.fromArray(FI, x, off1 + i));
            FloatVector b2 = wv.mul(FloatVector.fromArray(FI, x, off2 + i));
            FloatVector b3 = wv.mul(FloatVector.fromArray(FI, x, off3 + i));
            for (int j = i + M; j < i + QK; j += M) {
                wv = FloatVector.fromArray(FI, w, wOffset + j);
                b0 = wv.fma(FloatVector.fromArray(FI, x, off0 + j), b0);
                b1 = wv.fma(FloatVector.fromArray(FI, x, off1 + j), b1);
                b2 = wv.fma(FloatVector.fromArray(FI, x, off2 + j), b2);
                b3 = wv.fma(FloatVector.fromArray(FI, x, off3 + j), b3);
            }
            float s = ws[wOffset / QK + b];
            sum0 = b0.fma(FloatVector.broadcast(FI, s * xs[off0 / QK + b]), sum0);
            sum1 = b1.fma(FloatVector.broadcast(FI, s * xs[off1 / QK + b]), sum1);
            sum2 = b2.fma(FloatVector.broadcast(FI, s * xs[off2 / QK + b]), sum2);
            sum3 = b3.fma(FloatVector.broadcast(FI, s * xs[off3 / QK + b]), sum3);
        }
        out[0] = Vectors.sumLanes(FI, sum0);
        out[1] = Vectors.sumLanes(FI, sum1);
        out[2] = Vectors.sumLanes(FI, sum2);
        out[3] = Vectors.sumLanes(FI, sum3);
    }
}
