package dev.pcwmesh.runtime.kernel;

/** Numerically stable softmax in place. */
public final class Softmax {
    private Softmax() {}

    /** Replaces {@code x[off..off+n)} by its softmax and returns the log of the normaliser (log-sum-exp). */
    public static float apply(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        Vectors.scale(x, off, n, inv);
        return (float) (max + Math.log(sum));
    }
}
