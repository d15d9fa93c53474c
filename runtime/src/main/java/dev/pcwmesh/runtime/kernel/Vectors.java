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

    /**
     * Keys side by side in {@link #scaledDotsOfColumns}: 16 where vectors have 16 float lanes
     * (AVX-512), whose {@link #sumLanes} that method repeats across keys; 0 where it is not
     * offered (narrower vectors keep {@link #scaledDots}).
     */
    public static final int KEYS_PER_COLUMN = S.length() == 16 ? 16 : 0;

    /** Fails unless {@link #KEYS_PER_COLUMN} is offered on this machine. */
    private static void requireKeyColumns() {
        if (KEYS_PER_COLUMN != 16) throw new UnsupportedOperationException("keys side by side need 16 float lanes, not " + S.length());
    }

    /** Floats that {@link #transposeRows} writes for {@code count} rows of {@code n} values. */
    public static int transposedLength(int count, int n) {
        requireKeyColumns();
        return (count + KEYS_PER_COLUMN - 1) / KEYS_PER_COLUMN * KEYS_PER_COLUMN * n;
    }

    /**
     * Rows {@code [0, count)} of {@code x} ({@code n} values at {@code xOff + j * stride}) in blocks
     * of {@link #KEYS_PER_COLUMN} rows side by side, for {@link #scaledDotsOfColumns}: value
     * {@code d} of row {@code j} at {@code dstOff + ((j / K) * n + d) * K + j % K}; the last block
     * is filled up with zeros.
     */
    public static void transposeRows(float[] x, int xOff, int stride, int count, int n, float[] dst, int dstOff) {
        requireKeyColumns();
        int k = KEYS_PER_COLUMN;
        for (int j = 0; j < count; j++) {
            int at = dstOff + (j / k) * n * k + j % k, from = xOff + j * stride;
            for (int d = 0; d < n; d++) dst[at + d * k] = x[from + d];
        }
        for (int j = count; j % k != 0; j++) {
            int at = dstOff + (j / k) * n * k + j % k;
            for (int d = 0; d < n; d++) dst[at + d * k] = 0f;
        }
    }

    /**
     * {@link #scaledDots} of one query against keys laid out by {@link #transposeRows} (at {@code
     * ktOff}), bit for bit, sixteen keys at a time with a key in each lane: accumulator {@code l}
     * runs the FMA chain that lane {@code l} of a per-key dot runs, and the sixteen are then added
     * in {@link #sumLanes}' tree (lane {@code i} with {@code i + 8}, then {@code + 4}, {@code + 2},
     * {@code + 1}; each add commutes), so there is no lane shuffle at all. For a batch of queries:
     * the per-key dot spent more on its lane folds than on its FMAs.
     */
    public static void scaledDotsOfColumns(float[] q, int qOff, float[] kt, int ktOff, int count, int n, float scale,
                                           float[] out, int outOff) {
        requireKeyColumns();
        int upper = S.loopBound(n);
        for (int c = 0; c * 16 < count; c++) {
            int k = ktOff + c * n * 16;
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            FloatVector a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
            for (int i = 0; i < upper; i += 16) {
                int e = k + i * 16, qi = qOff + i;
                a0 = FloatVector.broadcast(S, q[qi]).fma(FloatVector.fromArray(S, kt, e), a0);
                a1 = FloatVector.broadcast(S, q[qi + 1]).fma(FloatVector.fromArray(S, kt, e + 16), a1);
                a2 = FloatVector.broadcast(S, q[qi + 2]).fma(FloatVector.fromArray(S, kt, e + 32), a2);
                a3 = FloatVector.broadcast(S, q[qi + 3]).fma(FloatVector.fromArray(S, kt, e + 48), a3);
                a4 = FloatVector.broadcast(S, q[qi + 4]).fma(FloatVector.fromArray(S, kt, e + 64), a4);
                a5 = FloatVector.broadcast(S, q[qi + 5]).fma(FloatVector.fromArray(S, kt, e + 80), a5);
                a6 = FloatVector.broadcast(S, q[qi + 6]).fma(FloatVector.fromArray(S, kt, e + 96), a6);
                a7 = FloatVector.broadcast(S, q[qi + 7]).fma(FloatVector.fromArray(S, kt, e + 112), a7);
                a8 = FloatVector.broadcast(S, q[qi + 8]).fma(FloatVector.fromArray(S, kt, e + 128), a8);
                a9 = FloatVector.broadcast(S, q[qi + 9]).fma(FloatVector.fromArray(S, kt, e + 144), a9);
                a10 = FloatVector.broadcast(S, q[qi + 10]).fma(FloatVector.fromArray(S, kt, e + 160), a10);
                a11 = FloatVector.broadcast(S, q[qi + 11]).fma(FloatVector.fromArray(S, kt, e + 176), a11);
                a12 = FloatVector.broadcast(S, q[qi + 12]).fma(FloatVector.fromArray(S, kt, e + 192), a12);
                a13 = FloatVector.broadcast(S, q[qi + 13]).fma(FloatVector.fromArray(S, kt, e + 208), a13);
                a14 = FloatVector.broadcast(S, q[qi + 14]).fma(FloatVector.fromArray(S, kt, e + 224), a14);
                a15 = FloatVector.broadcast(S, q[qi + 15]).fma(FloatVector.fromArray(S, kt, e + 240), a15);
            }
            FloatVector b0 = a0.add(a8), b1 = a1.add(a9), b2 = a2.add(a10), b3 = a3.add(a11);
            FloatVector b4 = a4.add(a12), b5 = a5.add(a13), b6 = a6.add(a14), b7 = a7.add(a15);
            FloatVector sum = b0.add(b4).add(b2.add(b6)).add(b1.add(b5).add(b3.add(b7)));
            for (int i = upper; i < n; i++) sum = sum.add(FloatVector.broadcast(S, q[qOff + i]).mul(FloatVector.fromArray(S, kt, k + i * 16)));
            sum = sum.mul(scale);
            if ((c + 1) * 16 <= count) sum.intoArray(out, outOff + c * 16);
            else sum.intoArray(out, outOff + c * 16, S.indexInRange(c * 16, count));
        }
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
