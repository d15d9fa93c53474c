package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Small vector operations on float arrays (dot, multiply-add, add), against the preferred species. */
public final class Vectors {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

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
     */
    static float sumLanes(FloatVector v) {
        return switch (v.length()) {
            case 16 -> fold(fold(fold(fold(v, ROTATE_16_BY_8), ROTATE_16_BY_4), ROTATE_16_BY_2), ROTATE_16_BY_1).lane(0);
            case 8 -> fold(fold(fold(v, ROTATE_8_BY_4), ROTATE_8_BY_2), ROTATE_8_BY_1).lane(0);
            case 4 -> fold(fold(v, ROTATE_4_BY_2), ROTATE_4_BY_1).lane(0);
            default -> v.length() == 2 ? v.lane(0) + v.lane(1) : v.lane(0);
        };
    }

    /** Lane {@code i} of {@code v} plus the lane the rotation brings to {@code i}. */
    private static FloatVector fold(FloatVector v, VectorShuffle<Float> rotation) {
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
        float sum = sumLanes(acc);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
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
