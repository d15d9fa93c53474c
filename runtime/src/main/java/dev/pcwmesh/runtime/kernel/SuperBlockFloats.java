package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.pcwmesh.runtime.kernel.KQuants.QK_K;

/**
 * Batched products of K-quant rows ({@link SuperBlockKernel}: Q4_K, Q5_K, Q6_K) with Q8_K
 * activation vectors, taken in float lanes: a row is unpacked once per batch to its quants times
 * their sub-block scales, as floats, and the activation quants once per batch, so each product
 * is FMAs where the kernel's {@code dot} unpacks, widens, multiplies and pairs int8 lanes per
 * vector. A row serves four vectors at a time ({@link #dot4}).
 *
 * <p>The result is the kernel's {@code dot}, bit for bit. That dot adds its integer products
 * into one exact integer per super-block before any float arithmetic. Here a product is an
 * integer of at most 4096 × 128 = 2^19 in magnitude and a float lane adds at most 16 of them
 * ({@link #CHUNK} values over at least 4 lanes), below 2^24, so each lane's sum is exact; the
 * lanes are converted to ints and added as ints, which gives the same integer, and the float
 * steps after it are the dot's own.
 */
final class SuperBlockFloats {
    private SuperBlockFloats() {}

    private static final VectorSpecies<Float> FI = Int8Lanes.FI;
    private static final VectorSpecies<Integer> I = Int8Lanes.I;
    private static final int M = FI.length();
    private static final int N = Int8Lanes.N;
    /** Values summed in float lanes before the lanes are added as ints. */
    private static final int CHUNK = 64;
    private static final int HEADER = SuperBlockKernel.HEADER;

    /** {@code N} quants times {@code scale}, as floats at {@code dst[at, at+N)} in element order. */
    static void put(ByteVector quants, int scale, float[] dst, int at) {
        FloatVector s = FloatVector.broadcast(FI, scale);
        for (int p = 0; p < N / M; p++) ((FloatVector) quants.convertShape(VectorOperators.B2F, FI, p)).mul(s).intoArray(dst, at + p * M);
    }

    /**
     * Stored values {@code [first, first+n)} unpacked: into {@code values[at0, at0+n)} and, for
     * super-block {@code b}, its header into {@code header[(at0/256 + b) * 10 ..]}.
     */
    static void unpackRow(SuperBlockKernel k, MemorySegment data, long first, int n, float[] values, float[] header, int at0) {
        Lanes.checkBlocks(first, n, QK_K);
        long base = first / QK_K * k.blockBytes();
        for (int b = 0; b < n / QK_K; b++) {
            k.unpack(data, base + (long) b * k.blockBytes(), values, at0 + b * QK_K, header, (at0 / QK_K + b) * HEADER);
        }
    }

    /** Prepared Q8_K activations {@code [0, n)} as floats in {@code quants[0, n)}; their scales and block sums stay in {@code a}. */
    static void unpackActivations(QuantizedActivations a, int n, float[] quants) {
        a.check(QuantizedActivations.VecDotType.Q8_K, 0, n);
        for (int i = 0; i < n; i += N) {
            ByteVector q = ByteVector.fromArray(Int8Lanes.B, a.qs, i);
            for (int p = 0; p < N / M; p++) ((FloatVector) q.convertShape(VectorOperators.B2F, FI, p)).intoArray(quants, i + p * M);
        }
    }

    /** The exact integer sum of {@code w[i, i+256) * x[j, j+256)}. */
    private static int superBlockSum(float[] w, int i, float[] x, int j) {
        IntVector acc = IntVector.zero(I);
        for (int c = 0; c < QK_K; c += CHUNK) {
            FloatVector f = FloatVector.zero(FI);
            for (int e = c; e < c + CHUNK; e += M) f = FloatVector.fromArray(FI, w, i + e).fma(FloatVector.fromArray(FI, x, j + e), f);
            acc = acc.add((IntVector) f.convert(VectorOperators.F2I, 0));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Sum over sub-blocks of mins × the activations' block sums, as the kernels' dots take it. */
    private static int minsSum(float[] header, int h, short[] bsums, int a16) {
        int summs = 0;
        for (int j = 0; j < 8; j++) summs += (int) header[h + 2 + j] * (bsums[a16 + 2 * j] + bsums[a16 + 2 * j + 1]);
        return summs;
    }

    /**
     * The dot of an unpacked row ({@code w[wOffset, wOffset+n)}, headers from
     * {@code header[wOffset/256*10]}) with unpacked activations {@code x[xOffset, xOffset+n)} of
     * the prepared {@code a}.
     */
    static float dot(float[] w, float[] header, int wOffset, float[] x, QuantizedActivations a, int xOffset, int n) {
        float sumf = 0, sums = 0;
        for (int b = 0; b < n / QK_K; b++) {
            int i = wOffset + b * QK_K, ab = xOffset + b * QK_K, h = i / QK_K * HEADER;
            int isum = superBlockSum(w, i, x, ab);
            int summs = minsSum(header, h, a.bsums, ab / 16);
            float dy = a.d[ab / QK_K];
            sums += (header[h] * dy) * isum;
            sumf -= (header[h + 1] * dy) * summs;
        }
        return sumf + sums;
    }

    /** {@link #dot} of one unpacked row with four activation vectors at once, into {@code out[0..4)}. */
    static void dot4(float[] w, float[] header, int wOffset, float[] x, QuantizedActivations a, int off0, int off1, int off2, int off3, int n, float[] out) {
        float sumf0 = 0, sums0 = 0, sumf1 = 0, sums1 = 0, sumf2 = 0, sums2 = 0, sumf3 = 0, sums3 = 0;
        for (int b = 0; b < n / QK_K; b++) {
            int i = wOffset + b * QK_K, h = i / QK_K * HEADER, o = b * QK_K;
            IntVector acc0 = IntVector.zero(I), acc1 = IntVector.zero(I), acc2 = IntVector.zero(I), acc3 = IntVector.zero(I);
            for (int c = 0; c < QK_K; c += CHUNK) {
                FloatVector f0 = FloatVector.zero(FI), f1 = FloatVector.zero(FI), f2 = FloatVector.zero(FI), f3 = FloatVector.zero(FI);
                for (int e = c; e < c + CHUNK; e += M) {
                    FloatVector wv = FloatVector.fromArray(FI, w, i + e);
                    f0 = wv.fma(FloatVector.fromArray(FI, x, off0 + o + e), f0);
                    f1 = wv.fma(FloatVector.fromArray(FI, x, off1 + o + e), f1);
                    f2 = wv.fma(FloatVector.fromArray(FI, x, off2 + o + e), f2);
                    f3 = wv.fma(FloatVector.fromArray(FI, x, off3 + o + e), f3);
                }
                acc0 = acc0.add((IntVector) f0.convert(VectorOperators.F2I, 0));
                acc1 = acc1.add((IntVector) f1.convert(VectorOperators.F2I, 0));
                acc2 = acc2.add((IntVector) f2.convert(VectorOperators.F2I, 0));
                acc3 = acc3.add((IntVector) f3.convert(VectorOperators.F2I, 0));
            }
            float d = header[h], dmin = header[h + 1];
            float dy0 = a.d[(off0 + o) / QK_K], dy1 = a.d[(off1 + o) / QK_K], dy2 = a.d[(off2 + o) / QK_K], dy3 = a.d[(off3 + o) / QK_K];
            sums0 += (d * dy0) * acc0.reduceLanes(VectorOperators.ADD);
            sums1 += (d * dy1) * acc1.reduceLanes(VectorOperators.ADD);
            sums2 += (d * dy2) * acc2.reduceLanes(VectorOperators.ADD);
            sums3 += (d * dy3) * acc3.reduceLanes(VectorOperators.ADD);
            sumf0 -= (dmin * dy0) * minsSum(header, h, a.bsums, (off0 + o) / 16);
            sumf1 -= (dmin * dy1) * minsSum(header, h, a.bsums, (off1 + o) / 16);
            sumf2 -= (dmin * dy2) * minsSum(header, h, a.bsums, (off2 + o) / 16);
            sumf3 -= (dmin * dy3) * minsSum(header, h, a.bsums, (off3 + o) / 16);
        }
        out[0] = sumf0 + sums0;
        out[1] = sumf1 + sums1;
        out[2] = sumf2 + sums2;
        out[3] = sumf3 + sums3;
    }
}
