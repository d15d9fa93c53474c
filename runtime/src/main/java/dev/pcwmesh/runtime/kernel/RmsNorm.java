package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Root-mean-square normalisation with a learned weight: {@code out = x / sqrt(mean(x^2) + eps) * w}. */
public final class RmsNorm {
    private static final VectorSpecies<Float> S = Lanes.F;

    private RmsNorm() {}

    /** Normalises {@code x[xOff..xOff+n)} into {@code out[outOff..]} (may be the same array and offset). */
    public static void apply(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            acc = v.fma(v, acc);
        }
        // Sum in double, as ggml does, so long rows do not lose precision.
        double sum = Vectors.sumLanes(S, acc); // in one fixed order: see there
        for (; i < n; i++) sum += (double) x[xOff + i] * x[xOff + i];
        float scale = (float) (1.0 / Math.sqrt(sum / n + eps));
        i = 0;
        for (; i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).mul(scale).mul(FloatVector.fromArray(S, weight, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = x[xOff + i] * scale * weight[i];
    }
}
