package dev.pcwmesh.runtime.kernel;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Attention's batched helpers give the numbers of the one-row operations they replace, bit for
 * bit: {@link Vectors#scaledDots} those of {@link Vectors#dot}, {@link Vectors#addWeightedRows}
 * those of {@link Vectors#axpy} row after row. Lengths cover whole vectors, the four-vector
 * chunks of the weighted sum, and scalar tails.
 */
class VectorsTest {
    private static final int[] LENGTHS = {1, 7, 16, 32, 64, 72, 80, 96, 128, 130, 256};
    private static final int[] COUNTS = {0, 1, 3, 4, 5, 8, 17};

    @Test
    void scaledDotsAreDotsTimesScale() {
        Random r = new Random(11);
        for (int n : LENGTHS) {
            for (int count : COUNTS) {
                int stride = n + 5, kOff = 3, qOff = 2, outOff = 4;
                float[] q = random(r, qOff + n), keys = random(r, kOff + Math.max(count, 1) * stride);
                float scale = 0.125f + r.nextFloat();
                float[] out = new float[outOff + count];
                Vectors.scaledDots(q, qOff, keys, kOff, stride, count, n, scale, out, outOff);
                for (int j = 0; j < count; j++) {
                    float expected = Vectors.dot(q, qOff, keys, kOff + j * stride, n) * scale;
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[outOff + j]),
                            "n=" + n + " count=" + count + " key " + j + ": " + expected + " vs " + out[outOff + j]);
                }
            }
        }
    }

    /** Keys side by side give the per-key scores bit for bit, and nothing past the last key is written. */
    @Test
    void scaledDotsOfColumnsAreScaledDots() {
        Assumptions.assumeTrue(Vectors.KEYS_PER_COLUMN > 0, "keys side by side need 16 float lanes (AVX-512); this JVM's vectors are narrower");
        Random r = new Random(13);
        for (int n : LENGTHS) {
            for (int count : new int[] {1, 15, 16, 17, 33, 64, 100}) {
                int stride = n + 5, kOff = 3, qOff = 2, outOff = 4, ktOff = 7;
                float[] q = random(r, qOff + n), keys = random(r, kOff + count * stride);
                float scale = 0.125f + r.nextFloat();
                float[] expected = new float[outOff + count + 16], got = new float[outOff + count + 16];
                java.util.Arrays.fill(got, -1f);
                java.util.Arrays.fill(expected, -1f);
                Vectors.scaledDots(q, qOff, keys, kOff, stride, count, n, scale, expected, outOff);
                float[] kt = new float[ktOff + Vectors.transposedLength(count, n)];
                Vectors.transposeRows(keys, kOff, stride, count, n, kt, ktOff);
                Vectors.scaledDotsOfColumns(q, qOff, kt, ktOff, count, n, scale, got, outOff);
                for (int j = 0; j < got.length; j++) {
                    assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(got[j]),
                            "n=" + n + " count=" + count + " element " + j + ": " + expected[j] + " vs " + got[j]);
                }
            }
        }
    }

    @Test
    void weightedRowsAreAxpysInOrder() {
        Random r = new Random(12);
        for (int n : LENGTHS) {
            for (int count : COUNTS) {
                int stride = n + 3, xOff = 1, wOff = 2, yOff = 5;
                float[] x = random(r, xOff + Math.max(count, 1) * stride);
                float[] w = random(r, wOff + count);
                for (int j = 0; j < count; j += 3) w[wOff + j] = 0f;  // zero weights are skipped, as attention skips them
                float[] start = random(r, yOff + n + 2);
                float[] expected = start.clone(), got = start.clone();
                for (int j = 0; j < count; j++) {
                    if (w[wOff + j] != 0f) Vectors.axpy(w[wOff + j], x, xOff + j * stride, expected, yOff, n);
                }
                Vectors.addWeightedRows(w, wOff, count, x, xOff, stride, got, yOff, n);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                            "n=" + n + " count=" + count + " element " + i + ": " + expected[i] + " vs " + got[i]);
                }
            }
        }
    }

    /** Two heads' weighted rows at once are each head's {@link Vectors#addWeightedRows}, zero weights of one or both heads included. */
    @Test
    void twoHeadsWeightedRowsAreEachHeadsOwn() {
        Random r = new Random(15);
        for (int n : LENGTHS) {
            for (int count : COUNTS) {
                int stride = n + 3, xOff = 1, wOff = 2, y0 = 5, y1 = y0 + n + 1;
                float[] x = random(r, xOff + Math.max(count, 1) * stride);
                float[] w0 = random(r, wOff + count), w1 = random(r, wOff + count);
                for (int j = 0; j < count; j += 3) w0[wOff + j] = 0f;
                for (int j = 0; j < count; j += 2) w1[wOff + j] = 0f;
                float[] start = random(r, y1 + n + 2);
                float[] expected = start.clone(), got = start.clone();
                Vectors.addWeightedRows(w0, wOff, count, x, xOff, stride, expected, y0, n);
                Vectors.addWeightedRows(w1, wOff, count, x, xOff, stride, expected, y1, n);
                Vectors.addWeightedRows2(w0, w1, wOff, count, x, xOff, stride, got, y0, y1, n);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                            "n=" + n + " count=" + count + " element " + i + ": " + expected[i] + " vs " + got[i]);
                }
            }
        }
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
