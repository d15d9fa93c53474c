package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Small vector operations on float arrays (dot, multiply-add, add), in {@link Lanes#F}: the preferred species capped at 16 lanes, whose lane sums have a fixed order. */
public final class Vectors {
    private static final VectorSpecies<Float> S = Lanes.F;

    private Vectors() {}

    /** The vector width the block kernels use (the preferred species, capped at 512 bits), for reports: "256-bit (8 x f32)". */
    public static String width() {
        return Lanes.F.vectorBitSize() + "-bit (" + Lanes.L + " x f32)";
    }

    /**
     * The lanes of {@code v} added in one fixed order: the upper half onto the lower half until
     * one lane is left. For 8 lanes that is ggml's x86 {@code hsum_float_8},
     * {@code ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7))}. {@code FloatVector.reduceLanes(ADD)} leaves
     * the order to the implementation (C2's intrinsic adds in a tree, the interpreter in
     * sequence), so the same sum could round differently before and after a method is compiled,
     * and rounded activations (f16, q8) can turn such a last-bit difference into a visible one;
     * batched prefill and single steps must give the same numbers. Reading the lanes one by one
     * ({@code lane(i)}) fixes an order too but is a chain of dependent adds that cost a third of a
     * batched F16 product's time; the halves are a few vector adds. (Halving by
     * {@code reinterpretShape} to narrower species is not intrinsified and goes through memory.)
     * {@code species} is {@code v}'s, named by the caller (see the folds below for why).
     */
    static float sumLanes(VectorSpecies<Float> species, FloatVector v) {
        return switch (species.length()) {
            case 16 -> fold16(fold16(fold16(fold16(v, ROTATE_16_BY_8), ROTATE_16_BY_4), ROTATE_16_BY_2), ROTATE_16_BY_1).lane(0);
            case 8 -> fold8(fold8(fold8(v, ROTATE_8_BY_4), ROTATE_8_BY_2), ROTATE_8_BY_1).lane(0);
            case 4 -> fold4(fold4(v, ROTATE_4_BY_2), ROTATE_4_BY_1).lane(0);
            case 2 -> v.lane(0) + v.lane(1);
            default -> throw new IllegalArgumentException("lane sums are for 2 to 16 lanes (Lanes.F), not " + species);
        };
    }

    // Lane i plus the lane the rotation brings to i. Three copies of one line, one per shape, and
    // the switch on the caller's species (a constant in every kernel) rather than on v.length():
    // then the switch folds when the kernel is compiled, and each fold sees one vector class, so
    // it stays small and inlines. One shared fold saw 512-bit vectors (F16 rows, attention) and
    // 256-bit ones (the integer kernels) on an AVX-512 machine, was compiled polymorphic and too
    // large to inline, and a running sum passed to a call is an object: C2 boxed the integer
    // kernels' sum at every block (21 GB of float[] for 64 decoded Q8_0 tokens; README, "What
    // session 9 changed"). Tiny, each is inlined on size alone, hot or not.
    private static FloatVector fold16(FloatVector v, VectorShuffle<Float> rotation) {
        return v.add(v.rearrange(rotation));
    }

    private static FloatVector fold8(FloatVector v, VectorShuffle<Float> rotation) {
        return v.add(v.rearrange(rotation));
    }

    private static FloatVector fold4(FloatVector v, VectorShuffle<Float> rotation) {
        return v.add(v.rearrange(rotation));
    }

    private static final VectorShuffle<Float> ROTATE_16_BY_8 = rotation(FloatVector.SPECIES_512, 8);
    private static final VectorShuffle<Float> ROTATE_16_BY_4 = rotation(FloatVector.SPECIES_512, 4);
    private static final VectorShuffle<Float> ROTATE_16_BY_2 = rotation(FloatVector.SPECIES_512, 2);
    private static final VectorShuffle<Float> ROTATE_16_BY_1 = rotation(FloatVector.SPECIES_512, 1);
    private static final VectorShuffle<Float> ROTATE_8_BY_4 = rotation(FloatVector.SPECIES_256, 4);
    private static final VectorShuffle<Float> ROTATE_8_BY_2 = rotation(FloatVector.SPECIES_256, 2);
    private static final VectorShuffle<Float> ROTATE_8_BY_1 = rotation(FloatVector.SPECIES_256, 1);
    private static final VectorShuffle<Float> ROTATE_4_BY_2 = rotation(FloatVector.SPECIES_128, 2);
    private static final VectorShuffle<Float> ROTATE_4_BY_1 = rotation(FloatVector.SPECIES_128, 1);

    /** Lane {@code i} takes lane {@code (i + by) mod length}. */
    private static VectorShuffle<Float> rotation(VectorSpecies<Float> s, int by) {
        return VectorShuffle.fromOp(s, i -> (i + by) % s.length());
    }

    /** {@code a[aOff..aOff+n) . b[bOff..bOff+n)}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float sum = sumLanes(S, acc);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /**
     * {@code out[outOff + j] = dot(q, qOff, keys, kOff + j * stride, n) * scale} for
     * {@code j < count}: attention scores of one query against rows of a key matrix, each
     * {@link #dot} bit for bit, four rows at a time. Four independent accumulator chains hide the
     * latency of the FMAs and of the lane folds that one key at a time waits on, and each
     * query vector is loaded once for four keys.
     */
    public static void scaledDots(float[] q, int qOff, float[] keys, int kOff, int stride, int count, int n, float scale,
                                  float[] out, int outOff) {
        int upper = S.loopBound(n);
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            int k0 = kOff + j * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            for (int i = 0; i < upper; i += S.length()) {
                FloatVector qv = FloatVector.fromArray(S, q, qOff + i);
                a0 = qv.fma(FloatVector.fromArray(S, keys, k0 + i), a0);
                a1 = qv.fma(FloatVector.fromArray(S, keys, k1 + i), a1);
                a2 = qv.fma(FloatVector.fromArray(S, keys, k2 + i), a2);
                a3 = qv.fma(FloatVector.fromArray(S, keys, k3 + i), a3);
            }
            float s0 = sumLanes(S, a0), s1 = sumLanes(S, a1), s2 = sumLanes(S, a2), s3 = sumLanes(S, a3);
            for (int i = upper; i < n; i++) {
                s0 += q[qOff + i] * keys[k0 + i];
                s1 += q[qOff + i] * keys[k1 + i];
                s2 += q[qOff + i] * keys[k2 + i];
                s3 += q[qOff + i] * keys[k3 + i];
            }
            out[outOff + j] = s0 * scale;
            out[outOff + j + 1] = s1 * scale;
            out[outOff + j + 2] = s2 * scale;
            out[outOff + j + 3] = s3 * scale;
        }
        for (; j < count; j++) out[outOff + j] = dot(q, qOff, keys, kOff + j * stride, n) * scale;
    }

    /**
     * {@code y[yOff..yOff+n) += w[wOff + j] * x[xOff + j * stride ..]} for {@code j < count} in
     * order, rows whose weight is zero left out: {@link #axpy} row after row, bit for bit, but
     * with the sums held in registers across the rows (four vectors of {@code y} at a time)
     * instead of loaded and stored for every row. Attention's weighted sum of values.
     */
    public static void addWeightedRows(float[] w, int wOff, int count, float[] x, int xOff, int stride, float[] y, int yOff, int n) {
        int lanes = S.length(), upper = S.loopBound(n);
        int c = 0;
        for (; c + 4 * lanes <= upper; c += 4 * lanes) {
            FloatVector y0 = FloatVector.fromArray(S, y, yOff + c), y1 = FloatVector.fromArray(S, y, yOff + c + lanes),
                    y2 = FloatVector.fromArray(S, y, yOff + c + 2 * lanes), y3 = FloatVector.fromArray(S, y, yOff + c + 3 * lanes);
            for (int j = 0; j < count; j++) {
                float wj = w[wOff + j];
                if (wj == 0f) continue;
                FloatVector vw = FloatVector.broadcast(S, wj);
                int row = xOff + j * stride + c;
                y0 = FloatVector.fromArray(S, x, row).fma(vw, y0);
                y1 = FloatVector.fromArray(S, x, row + lanes).fma(vw, y1);
                y2 = FloatVector.fromArray(S, x, row + 2 * lanes).fma(vw, y2);
                y3 = FloatVector.fromArray(S, x, row + 3 * lanes).fma(vw, y3);
            }
            y0.intoArray(y, yOff + c);
            y1.intoArray(y, yOff + c + lanes);
            y2.intoArray(y, yOff + c + 2 * lanes);
            y3.intoArray(y, yOff + c + 3 * lanes);
        }
        for (; c < upper; c += lanes) {
            FloatVector acc = FloatVector.fromArray(S, y, yOff + c);
            for (int j = 0; j < count; j++) {
                float wj = w[wOff + j];
                if (wj != 0f) acc = FloatVector.fromArray(S, x, xOff + j * stride + c).fma(FloatVector.broadcast(S, wj), acc);
            }
            acc.intoArray(y, yOff + c);
        }
        for (; c < n; c++) {
            float acc = y[yOff + c];
            for (int j = 0; j < count; j++) {
                float wj = w[wOff + j];
                if (wj != 0f) acc += wj * x[xOff + j * stride + c];
            }
            y[yOff + c] = acc;
        }
    }

    /**
     * {@link #addWeightedRows} for two weight vectors over the same rows, {@code w0} into
     * {@code y[y0..y0+n)} and {@code w1} into {@code y[y1..y1+n)} ({@code wOff} into both): two
     * query heads of one key/value head. Each value load serves both sums, and eight accumulator
     * chains rather than four keep the FMA units busy. A row is left out only when both weights
     * are zero; a zero weight of one head multiplies the row, which adds zero to a sum that
     * cannot be -0 (it starts at +0, and a sum is -0 only when both terms are) and so leaves it
     * as skipping would, for finite values. Each sum is therefore {@code addWeightedRows}' bit for bit.
     */
    public static void addWeightedRows2(float[] w0, float[] w1, int wOff, int count, float[] x, int xOff, int stride,
                                        float[] y, int y0, int y1, int n) {
        int lanes = S.length(), upper = S.loopBound(n);
        int c = 0;
        for (; c + 4 * lanes <= upper; c += 4 * lanes) {
            FloatVector a0 = FloatVector.fromArray(S, y, y0 + c), a1 = FloatVector.fromArray(S, y, y0 + c + lanes),
                    a2 = FloatVector.fromArray(S, y, y0 + c + 2 * lanes), a3 = FloatVector.fromArray(S, y, y0 + c + 3 * lanes);
            FloatVector b0 = FloatVector.fromArray(S, y, y1 + c), b1 = FloatVector.fromArray(S, y, y1 + c + lanes),
                    b2 = FloatVector.fromArray(S, y, y1 + c + 2 * lanes), b3 = FloatVector.fromArray(S, y, y1 + c + 3 * lanes);
            for (int j = 0; j < count; j++) {
                float u = w0[wOff + j], v = w1[wOff + j];
                if (u == 0f && v == 0f) continue;
                FloatVector vu = FloatVector.broadcast(S, u), vv = FloatVector.broadcast(S, v);
                int row = xOff + j * stride + c;
                FloatVector x0 = FloatVector.fromArray(S, x, row), x1 = FloatVector.fromArray(S, x, row + lanes),
                        x2 = FloatVector.fromArray(S, x, row + 2 * lanes), x3 = FloatVector.fromArray(S, x, row + 3 * lanes);
                a0 = x0.fma(vu, a0);
                b0 = x0.fma(vv, b0);
                a1 = x1.fma(vu, a1);
                b1 = x1.fma(vv, b1);
                a2 = x2.fma(vu, a2);
                b2 = x2.fma(vv, b2);
                a3 = x3.fma(vu, a3);
                b3 = x3.fma(vv, b3);
            }
            a0.intoArray(y, y0 + c);
            a1.intoArray(y, y0 + c + lanes);
            a2.intoArray(y, y0 + c + 2 * lanes);
            a3.intoArray(y, y0 + c + 3 * lanes);
            b0.intoArray(y, y1 + c);
            b1.intoArray(y, y1 + c + lanes);
            b2.intoArray(y, y1 + c + 2 * lanes);
            b3.intoArray(y, y1 + c + 3 * lanes);
        }
        if (c < n) {
            addWeightedRows(w0, wOff, count, x, xOff + c, stride, y, y0 + c, n - c);
            addWeightedRows(w1, wOff, count, x, xOff + c, stride, y, y1 + c, n - c);
        }
    }

    /** {@code y[yOff..] += alpha * x[xOff..]} over {@code n} values. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** {@code y[yOff..] += x[xOff..]} over {@code n} values. */
    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    /** {@code x[off..off+n) *= alpha}. */
    public static void scale(float[] x, int off, int n, float alpha) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, off + i).mul(alpha).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] *= alpha;
    }
}
