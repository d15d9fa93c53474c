package dev.pcwmesh.runtime.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Pieces shared by the K-quant kernels (super-blocks of 256 values): the 6-bit scale/min
 * packing of Q4_K and Q5_K, and transcriptions of ggml's quantization helpers
 * {@code make_qkx2_quants} and {@code make_qx_quants} (ggml/src/ggml-quants.c).
 */
final class KQuants {
    private KQuants() {}

    static final int QK_K = 256;

    /** ggml's {@code get_scale_min_k4}: the 6-bit scale of sub-block {@code j} (0..7) from the 12 scale bytes at {@code q}. */
    static int scale(MemorySegment data, long q, int j) {
        if (j < 4) return u8(data, q + j) & 63;
        return (u8(data, q + j + 4) & 0xF) | ((u8(data, q + j - 4) >>> 6) << 4);
    }

    /** ggml's {@code get_scale_min_k4}: the 6-bit min of sub-block {@code j} (0..7). */
    static int min(MemorySegment data, long q, int j) {
        if (j < 4) return u8(data, q + j + 4) & 63;
        return (u8(data, q + j + 4) >>> 4) | ((u8(data, q + j) >>> 6) << 4);
    }

    static int u8(MemorySegment data, long off) {
        return data.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    /** The packing of {@code quantize_row_q4_K_ref}: 8 six-bit scales and mins into 12 bytes at {@code q}. */
    static void packScales(MemorySegment data, long q, int[] ls, int[] lm) {
        byte[] s = new byte[12];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                s[j] = (byte) ls[j];
                s[j + 4] = (byte) lm[j];
            } else {
                s[j + 4] = (byte) ((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                s[j - 4] |= (byte) ((ls[j] >>> 4) << 6);
                s[j] |= (byte) ((lm[j] >>> 4) << 6);
            }
        }
        MemorySegment.copy(s, 0, data, ValueLayout.JAVA_BYTE, q, 12);
    }

    /**
     * The part of ggml's {@code quantize_row_q4_K_ref} and {@code quantize_row_q5_K_ref} that the
     * two share: per sub-block of 32 a scale and a min by {@code make_qkx2_quants} (weights
     * {@code sqrt(mean x^2) + |x|}), both rounded to 6 bits against the block's largest, packed
     * with the f16 super-block scales at {@code off}, and the quants {@code 0..nmax} recomputed
     * against the rounded scales into {@code lq[0..256)}. Packing the quants is the caller's.
     */
    static void quantizeScalesAndMins(float[] src, int xs, int nmax, float rmin, float rdelta, int nstep,
                                      MemorySegment dst, long off, int[] lq) {
        float[] weights = new float[32], mins = new float[8], scales = new float[8], theMin = new float[1];
        int[] laux = new int[32], ls = new int[8], lm = new int[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += src[xs + 32 * j + l] * src[xs + 32 * j + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + Math.abs(src[xs + 32 * j + l]);
            scales[j] = makeQkx2Quants(32, nmax, src, xs + 32 * j, weights, lq, 32 * j, theMin, laux, rmin, rdelta, nstep, false);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++) {
            ls[j] = Math.min(63, Lanes.nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, Lanes.nearestInt(invMin * mins[j]) & 0xFF);
        }
        packScales(dst, off + 4, ls, lm);
        Lanes.putHalf(dst, off, maxScale / 63f);
        Lanes.putHalf(dst, off + 2, maxMin / 63f);
        float dd = Lanes.half(dst, off);
        float dm = Lanes.half(dst, off + 2);
        for (int j = 0; j < 8; j++) {
            float d = dd * scale(dst, off + 4, j);
            if (d == 0f) continue;
            float m = dm * min(dst, off + 4, j);
            for (int ii = 0; ii < 32; ii++) {
                int l = Lanes.nearestInt((src[xs + 32 * j + ii] + m) / d);
                lq[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
    }

    /**
     * ggml's {@code make_qkx2_quants}: levels {@code L[0..n)} in {@code [0, nmax]} and the
     * returned scale and {@code theMin[0]} such that {@code x ~ scale * L - theMin}, searched
     * over {@code nstep + 1} candidate scales to minimise the weighted error.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo, float[] theMin,
                                int[] laux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo], max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float xi = x[xo + i];
            if (xi < min) min = xi;
            if (xi > max) max = xi;
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            theMin[0] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Lanes.nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1) {
            theMin[0] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Lanes.nearestInt(iscale * (x[xo + i] - min));
                l = Math.max(0, Math.min(nmax, l));
                laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xo + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError) {
                    for (int i = 0; i < n; i++) L[lo + i] = laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    private static final float GROUP_MAX_EPS = 1e-15f;

    /**
     * ggml's {@code make_qx_quants} with {@code rmse_type = 1} and no importance weights (the
     * weights are {@code x^2}): signed levels stored as {@code L = l + nmax}, {@code l} in
     * {@code [-nmax, nmax-1]}, and the returned scale with {@code x ~ scale * l}.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) { amax = ax; max = x[xo + i]; }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xo + i];
            int l = Lanes.nearestInt(iscale * xi);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lo + i] = l + nmax;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                int l = Lanes.nearestInt(iscale * xi);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int l = Lanes.nearestInt(iscale * x[xo + i]);
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }
}
