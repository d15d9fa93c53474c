package dev.pcwmesh.runtime.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The vector softmax against the one-value-at-a-time formula it replaced (each {@code e^(x-max)}
 * through {@link Math#exp}, one running double sum): the same floats and log-sum-exp, bit for
 * bit, for attention-like scores and logits, interpreted and compiled by C2.
 */
class SoftmaxTest {
    @Test
    void vectorLanesGiveTheScalarSoftmax() {
        Random r = new Random(31);
        for (int n : new int[] {1, 2, 7, 8, 9, 64, 257, 4096, 49152}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * (1 << r.nextInt(6)));
            if (n > 8) {
                x[3] = Float.NEGATIVE_INFINITY;  // masked keys
                x[5] = -1e30f;
            }
            float[] expected = x.clone();
            float expectedLse = scalar(expected, n);
            float[] got = x.clone();
            float lse = 0;
            for (int rep = 0; rep < 2_000_000 / n + 1; rep++) {
                System.arraycopy(x, 0, got, 0, n);
                lse = Softmax.apply(got, 0, n);
            }
            assertEquals(Float.floatToIntBits(expectedLse), Float.floatToIntBits(lse), "n=" + n + " log-sum-exp");
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), "n=" + n + " i=" + i + ": " + expected[i] + " vs " + got[i]);
            }
        }
    }

    private static float scalar(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) x[i] *= inv;
        return (float) (max + Math.log(sum));
    }
}
