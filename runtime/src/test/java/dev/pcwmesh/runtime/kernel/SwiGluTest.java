package dev.pcwmesh.runtime.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The vector SwiGLU gives the scalar formula's floats bit for bit, over ordinary and extreme
 * gates, interpreted and (after the repetitions) compiled by C2 with its vector exponential.
 */
class SwiGluTest {
    @Test
    void vectorLanesAreTheScalarFormula() {
        Random r = new Random(21);
        float[] special = {0f, -0f, 1e-30f, -1e-30f, 88f, -88f, 104f, -104f, 710f, -710f, 746f, -746f, 1e30f, -1e30f,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        for (int n : new int[] {1, 7, 8, 16, 17, 100, 4096, 20003}) {
            float[] gate = new float[n], up = new float[n];
            for (int i = 0; i < n; i++) {
                gate[i] = i < special.length && n > 100 ? special[i] : (float) (r.nextGaussian() * (1 << r.nextInt(8)));
                up[i] = (float) r.nextGaussian();
            }
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) expected[i] = SwiGlu.scalar(gate[i], up[i]);
            float[] got = gate.clone();
            for (int rep = 0; rep < 20_000_000 / n / 10 + 1; rep++) {
                System.arraycopy(gate, 0, got, 0, n);
                SwiGlu.apply(got, up, n);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]),
                        "n=" + n + " i=" + i + ": silu(" + gate[i] + ") * " + up[i] + " = " + expected[i] + ", vector " + got[i]);
            }
        }
    }
}
