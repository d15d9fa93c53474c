package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.pcwmesh.runtime.kernel.Lanes.D;
import static dev.pcwmesh.runtime.kernel.Lanes.FD;

/**
 * Numerically stable softmax in place: {@code e^(x - max)} worked in double and rounded to float,
 * summed in double, each then scaled by the float of {@code 1 / sum}.
 *
 * <p>The exponentials run in double vector lanes ({@code EXP}, SVML on x86), as in
 * {@link SwiGlu}: one at a time they were the largest part of a prefill's attention (a token
 * scores every key it sees, for each head and layer). The sum is kept in {@code D.length()}
 * lane sums added in lane order at the end; with every term in (0, 1] that differs from one
 * running sum by a few double ulps, far below the float the scale is rounded to.
 */
public final class Softmax {
    private Softmax() {}

    /** Replaces {@code x[off..off+n)} by its softmax and returns the log of the normaliser (log-sum-exp). */
    public static float apply(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        DoubleVector sums = DoubleVector.zero(D);
        int i = 0;
        for (int upper = FD.loopBound(n); i < upper; i += FD.length()) {
            DoubleVector d = (DoubleVector) FloatVector.fromArray(FD, x, off + i).sub(max).convertShape(VectorOperators.F2D, D, 0);
            FloatVector e = (FloatVector) d.lanewise(VectorOperators.EXP).convertShape(VectorOperators.D2F, FD, 0);
            e.intoArray(x, off + i);
            sums = sums.add(e.convertShape(VectorOperators.F2D, D, 0));
        }
        double sum = 0;
        for (int lane = 0; lane < D.length(); lane++) sum += sums.lane(lane);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        Vectors.scale(x, off, n, inv);
        return (float) (max + Math.log(sum));
    }
}
