package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
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
     * The lanes of {@code v} added in lane order. {@code FloatVector.reduceLanes(ADD)} leaves the
     * order to the implementation, and C2's intrinsic adds in a tree while the interpreter adds
     * in sequence, so the same sum could round differently before and after a method is
     * compiled. Rounded activations (f16, q8) can turn such a last-bit difference into a visible
     * one, and batched prefill and single steps must give the same numbers, so float sums here
     * have one order.
     */
    static float sumLanes(FloatVector v) {
        float s = v.lane(0);
        for (int i = 1; i < v.length(); i++) s += v.lane(i);
        return s;
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
