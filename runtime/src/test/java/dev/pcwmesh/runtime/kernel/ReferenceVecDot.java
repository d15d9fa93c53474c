package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;

import static dev.pcwmesh.runtime.kernel.ReferenceDequant.f16;
import static dev.pcwmesh.runtime.kernel.ReferenceDequant.u32;
import static dev.pcwmesh.runtime.kernel.ReferenceDequant.u8;

/**
 * Plain scalar transcriptions, written independently of the vector kernels, of how llama.cpp's
 * CPU backend multiplies a weight row by an activation row: the activation quantizers
 * ({@code quantize_row_q8_0} and {@code quantize_row_q8_1} as the x86 AVX/AVX2 build computes them
 * in ggml-cpu/arch/x86/quants.c, {@code quantize_row_q8_K_ref} from ggml-quants.c, the f32 to
 * f16/bf16 conversions) and the dot products {@code ggml_vec_dot_*_generic} (ggml-cpu/quants.c)
 * and {@code ggml_vec_dot_f16}/{@code _bf16}/{@code _f32} (ggml-cpu/vec.cpp, scalar form).
 *
 * <p>Each dot also returns the sum of the magnitudes of the float terms it adds (for the 32-value
 * blocks, of the integer products times the block's scale, since a kernel may split a block's
 * integer sum into lanes), the scale of the rounding error any other summation order may make.
 */
final class ReferenceVecDot {
    private ReferenceVecDot() {}

    /** A result and the sum of |term| over the float terms that made it. */
    record Dot(float value, double magnitude) {}

    /** Activation blocks as ggml lays them out: {@code block_q8_0}, {@code block_q8_1} or {@code block_q8_K}. */
    static final class Q8 {
        /** Q8_0, Q8_1: f16 bits of d; Q8_1: f16 bits of s. */
        short[] d16, s16;
        /** Q8_K: float d. */
        float[] dK;
        byte[] qs;
        short[] bsums;
        /** F16/BF16/F32 activations: the values as the type holds them, widened to float. */
        float[] values;
    }

    // ---- activation conversion (ggml's from_float of the vec_dot_type) ----

    /** ggml's {@code nearest_int}, bit trick and all (round half to even for |x| < 2^22). */
    static int nearestInt(float fval) {
        float val = fval + 12582912.f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    /** {@code _mm256_round_ps(v, _MM_ROUND_NEAREST)} then {@code _mm256_cvtps_epi32}: IEEE round half to even. */
    static int roundNearestEven(float v) {
        return (int) Math.rint(v);
    }

    /** x86 AVX2 {@code quantize_row_q8_0} (and {@code _q8_1} with {@code withSums}), one block at a time. */
    static Q8 quantizeQ8x86(float[] x, int k, boolean withSums) {
        int nb = k / 32;
        Q8 y = new Q8();
        y.d16 = new short[nb];
        y.s16 = withSums ? new short[nb] : null;
        y.qs = new byte[k];
        for (int i = 0; i < nb; i++) {
            float maxScalar = 0;
            for (int j = 0; j < 32; j++) maxScalar = Math.max(maxScalar, Math.abs(x[32 * i + j]));
            float d = maxScalar / 127.f;
            y.d16[i] = Float.floatToFloat16(d);
            float id = (maxScalar != 0.0f) ? 127.f / maxScalar : 0.0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int v = roundNearestEven(x[32 * i + j] * id);
                sum += v;
                // _mm256_packs_epi32 then _mm256_packs_epi16: signed saturation
                y.qs[32 * i + j] = (byte) Math.max(-128, Math.min(127, Math.max(-32768, Math.min(32767, v))));
            }
            if (withSums) y.s16[i] = Float.floatToFloat16(d * sum);
        }
        return y;
    }

    /** ggml's {@code quantize_row_q8_K_ref}. */
    static Q8 quantizeQ8K(float[] x, int k) {
        int nb = k / 256;
        Q8 y = new Q8();
        y.dK = new float[nb];
        y.qs = new byte[k];
        y.bsums = new short[k / 16];
        for (int i = 0; i < nb; i++) {
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; ++j) {
                float ax = Math.abs(x[256 * i + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[256 * i + j];
                }
            }
            if (amax == 0) {
                y.dK[i] = 0; // qs zero; bsums left as they were (zero here)
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < 256; ++j) {
                int v = nearestInt(iscale * x[256 * i + j]);
                y.qs[256 * i + j] = (byte) Math.min(127, v);
            }
            for (int j = 0; j < 16; ++j) {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) sum += y.qs[256 * i + j * 16 + ii];
                y.bsums[16 * i + j] = (short) sum;
            }
            y.dK[i] = 1 / iscale;
        }
        return y;
    }

    /** ggml's {@code GGML_FP32_TO_BF16} (round to nearest even, NaNs made quiet). */
    static float toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        int h;
        if ((u & 0x7fffffff) > 0x7f800000) h = (u >>> 16) | 64;
        else h = (u + (0x7fff + ((u >>> 16) & 1))) >>> 16;
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /** The activations in {@code type}'s vec_dot_type. */
    static Q8 prepare(GgmlType type, float[] x, int k) {
        return switch (type) {
            case Q4_0, Q5_0, Q8_0 -> quantizeQ8x86(x, k, false);
            case Q4_1, Q5_1 -> quantizeQ8x86(x, k, true);
            case Q4_K, Q5_K, Q6_K -> quantizeQ8K(x, k);
            case F16, BF16, F32 -> {
                Q8 y = new Q8();
                y.values = new float[k];
                for (int i = 0; i < k; i++) {
                    y.values[i] = switch (type) {
                        case F16 -> Float.float16ToFloat(Float.floatToFloat16(x[i]));
                        case BF16 -> toBf16(x[i]);
                        default -> x[i];
                    };
                }
                yield y;
            }
            default -> throw new IllegalArgumentException("no reference for " + type);
        };
    }

    // ---- dot products: x holds the weight blocks, y the prepared activations, n values ----

    static Dot dot(GgmlType type, byte[] x, Q8 y, int n) {
        return switch (type) {
            case Q4_0 -> q4_0(x, y, n);
            case Q4_1 -> q4_1(x, y, n);
            case Q5_0 -> q5_0(x, y, n);
            case Q5_1 -> q5_1(x, y, n);
            case Q8_0 -> q8_0(x, y, n);
            case Q4_K -> q4_K(x, y, n, false);
            case Q5_K -> q4_K(x, y, n, true);
            case Q6_K -> q6_K(x, y, n);
            case F16, BF16, F32 -> floats(ReferenceDequant.dequantize(type, x, n), y.values);
            default -> throw new IllegalArgumentException("no reference for " + type);
        };
    }

    private static float h(short bits) { return Float.float16ToFloat(bits); }

    /**
     * The magnitude of a block whose integer products are summed in parts (ggml's x86 kernels
     * and ours scale per-lane partial sums into float lanes): the sum of the products' magnitudes
     * times the scale, which bounds the magnitude of any such part.
     */
    private static double elementMagnitude(int sumOfAbsProducts, float scale) {
        return (double) sumOfAbsProducts * Math.abs(scale);
    }

    /** {@code ggml_vec_dot_f16} / {@code _bf16} / {@code _f32}: products of the widened values, here summed in double. */
    static Dot floats(float[] w, float[] a) {
        double sum = 0, mag = 0;
        for (int i = 0; i < w.length; i++) {
            float p = w[i] * a[i];
            sum += p;
            mag += Math.abs(p);
        }
        return new Dot((float) sum, mag);
    }

    static Dot q4_0(byte[] x, Q8 y, int n) {
        int qk = 32, nb = n / qk;
        float sumf = 0;
        double mag = 0;
        for (int ib = 0; ib < nb; ++ib) {
            int xb = 18 * ib;
            int sumi0 = 0, sumi1 = 0, abs = 0;
            for (int j = 0; j < qk / 2; ++j) {
                int v0 = (u8(x, xb + 2 + j) & 0x0F) - 8;
                int v1 = (u8(x, xb + 2 + j) >> 4) - 8;
                sumi0 += v0 * y.qs[32 * ib + j];
                sumi1 += v1 * y.qs[32 * ib + j + qk / 2];
                abs += Math.abs(v0 * y.qs[32 * ib + j]) + Math.abs(v1 * y.qs[32 * ib + j + qk / 2]);
            }
            int sumi = sumi0 + sumi1;
            float term = sumi * f16(x, xb) * h(y.d16[ib]);
            sumf += term;
            mag += elementMagnitude(abs, f16(x, xb) * h(y.d16[ib]));
        }
        return new Dot(sumf, mag);
    }

    static Dot q4_1(byte[] x, Q8 y, int n) {
        int qk = 32, nb = n / qk;
        float sumf = 0;
        double mag = 0;
        for (int ib = 0; ib < nb; ++ib) {
            int xb = 20 * ib;
            int sumi0 = 0, sumi1 = 0, abs = 0;
            for (int j = 0; j < qk / 2; ++j) {
                int v0 = u8(x, xb + 4 + j) & 0x0F;
                int v1 = u8(x, xb + 4 + j) >> 4;
                sumi0 += v0 * y.qs[32 * ib + j];
                sumi1 += v1 * y.qs[32 * ib + j + qk / 2];
                abs += Math.abs(v0 * y.qs[32 * ib + j]) + Math.abs(v1 * y.qs[32 * ib + j + qk / 2]);
            }
            int sumi = sumi0 + sumi1;
            float t1 = (f16(x, xb) * h(y.d16[ib])) * sumi, t2 = f16(x, xb + 2) * h(y.s16[ib]);
            sumf += t1 + t2;
            mag += elementMagnitude(abs, f16(x, xb) * h(y.d16[ib])) + Math.abs(t2);
        }
        return new Dot(sumf, mag);
    }

    static Dot q5_0(byte[] x, Q8 y, int n) {
        int qk = 32, nb = n / qk;
        float sumf = 0;
        double mag = 0;
        for (int ib = 0; ib < nb; ++ib) {
            int xb = 22 * ib;
            int qh = u32(x, xb + 2);
            int sumi0 = 0, sumi1 = 0, abs = 0;
            for (int j = 0; j < qk / 2; ++j) {
                int xh0 = ((qh & (1 << (j + 0))) >>> (j + 0)) << 4;
                int xh1 = (qh & (1 << (j + 16))) >>> (j + 12);
                int x0 = (byte) (((u8(x, xb + 6 + j) & 0x0F) | xh0) - 16);
                int x1 = (byte) (((u8(x, xb + 6 + j) >> 4) | xh1) - 16);
                sumi0 += x0 * y.qs[32 * ib + j];
                sumi1 += x1 * y.qs[32 * ib + j + qk / 2];
                abs += Math.abs(x0 * y.qs[32 * ib + j]) + Math.abs(x1 * y.qs[32 * ib + j + qk / 2]);
            }
            int sumi = sumi0 + sumi1;
            float term = (f16(x, xb) * h(y.d16[ib])) * sumi;
            sumf += term;
            mag += elementMagnitude(abs, f16(x, xb) * h(y.d16[ib]));
        }
        return new Dot(sumf, mag);
    }

    static Dot q5_1(byte[] x, Q8 y, int n) {
        int qk = 32, nb = n / qk;
        float sumf = 0;
        double mag = 0;
        for (int ib = 0; ib < nb; ++ib) {
            int xb = 24 * ib;
            int qh = u32(x, xb + 4);
            int sumi0 = 0, sumi1 = 0, abs = 0;
            for (int j = 0; j < qk / 2; ++j) {
                int xh0 = ((qh >>> (j + 0)) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                int x0 = (u8(x, xb + 8 + j) & 0xF) | xh0;
                int x1 = (u8(x, xb + 8 + j) >> 4) | xh1;
                sumi0 += x0 * y.qs[32 * ib + j];
                sumi1 += x1 * y.qs[32 * ib + j + qk / 2];
                abs += Math.abs(x0 * y.qs[32 * ib + j]) + Math.abs(x1 * y.qs[32 * ib + j + qk / 2]);
            }
            int sumi = sumi0 + sumi1;
            float t1 = (f16(x, xb) * h(y.d16[ib])) * sumi, t2 = f16(x, xb + 2) * h(y.s16[ib]);
            sumf += t1 + t2;
            mag += elementMagnitude(abs, f16(x, xb) * h(y.d16[ib])) + Math.abs(t2);
        }
        return new Dot(sumf, mag);
    }

    static Dot q8_0(byte[] x, Q8 y, int n) {
        int qk = 32, nb = n / qk;
        float sumf = 0;
        double mag = 0;
        for (int ib = 0; ib < nb; ++ib) {
            int xb = 34 * ib;
            int sumi = 0, abs = 0;
            for (int j = 0; j < qk; j++) {
                sumi += x[xb + 2 + j] * y.qs[32 * ib + j];
                abs += Math.abs(x[xb + 2 + j] * y.qs[32 * ib + j]);
            }
            float term = sumi * (f16(x, xb) * h(y.d16[ib]));
            sumf += term;
            mag += elementMagnitude(abs, f16(x, xb) * h(y.d16[ib]));
        }
        return new Dot(sumf, mag);
    }

    /** {@code ggml_vec_dot_q4_K_q8_K_generic}, and with {@code five} {@code ggml_vec_dot_q5_K_q8_K_generic}. */
    static Dot q4_K(byte[] x, Q8 y, int n, boolean five) {
        int nb = n / 256;
        int bytes = five ? 176 : 144;
        final int kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        int[] utmp = new int[4];
        byte[] aux8 = new byte[256];
        short[] aux16 = new short[8];
        float[] sums = new float[8];
        int[] aux32 = new int[8];
        float sumf = 0;
        double mag = 0;
        for (int i = 0; i < nb; ++i) {
            int xb = bytes * i;
            int q4 = xb + (five ? 48 : 16);
            int hm = xb + 16;
            int q8 = 256 * i;
            java.util.Arrays.fill(aux32, 0);
            int a = 0;
            int m = 1;
            for (int j = 0; j < 256 / 64; ++j) {
                for (int l = 0; l < 32; ++l) aux8[a + l] = (byte) (u8(x, q4 + l) & 0xF);
                if (five) for (int l = 0; l < 32; ++l) aux8[a + l] += (byte) ((u8(x, hm + l) & m) != 0 ? 16 : 0);
                a += 32; m <<= 1;
                for (int l = 0; l < 32; ++l) aux8[a + l] = (byte) (u8(x, q4 + l) >> 4);
                if (five) for (int l = 0; l < 32; ++l) aux8[a + l] += (byte) ((u8(x, hm + l) & m) != 0 ? 16 : 0);
                a += 32; m <<= 1;
                q4 += 32;
            }
            for (int w = 0; w < 3; w++) utmp[w] = u32(x, xb + 4 + 4 * w);
            utmp[3] = ((utmp[2] >>> 4) & kmask2) | (((utmp[1] >>> 6) & kmask3) << 4);
            int uaux = utmp[1] & kmask1;
            utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >>> 6) & kmask3) << 4);
            utmp[2] = uaux;
            utmp[0] &= kmask1;
            int[] scales = new int[8], mins = new int[8];
            for (int j = 0; j < 8; j++) {
                scales[j] = (utmp[j / 4] >>> (8 * (j % 4))) & 0xFF;
                mins[j] = (utmp[2 + j / 4] >>> (8 * (j % 4))) & 0xFF;
            }
            int sumi = 0;
            for (int j = 0; j < 256 / 16; ++j) sumi += y.bsums[16 * i + j] * mins[j / 2];
            a = 0;
            int is = 0;
            for (int j = 0; j < 256 / 32; ++j) {
                int scale = scales[is++];
                for (int r = 0; r < 4; r++) {
                    for (int l = 0; l < 8; ++l) aux16[l] = (short) (y.qs[q8 + l] * aux8[a + l]);
                    for (int l = 0; l < 8; ++l) aux32[l] += scale * aux16[l];
                    q8 += 8; a += 8;
                }
            }
            float d = f16(x, xb) * y.dK[i];
            for (int l = 0; l < 8; ++l) {
                sums[l] += d * aux32[l];
                mag += Math.abs(d * aux32[l]);
            }
            float dmin = f16(x, xb + 2) * y.dK[i];
            sumf -= dmin * sumi;
            mag += Math.abs(dmin * sumi);
        }
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return new Dot(sumf, mag);
    }

    static Dot q6_K(byte[] x, Q8 y, int n) {
        int nb = n / 256;
        byte[] aux8 = new byte[256];
        short[] aux16 = new short[8];
        float[] sums = new float[8];
        int[] aux32 = new int[8];
        float sumf = 0;
        double mag = 0;
        for (int i = 0; i < nb; ++i) {
            int xb = 210 * i;
            int q4 = xb, qh = xb + 128;
            int q8 = 256 * i;
            java.util.Arrays.fill(aux32, 0);
            int a = 0;
            for (int j = 0; j < 256; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    aux8[a + l] = (byte) (((u8(x, q4 + l) & 0xF) | (((u8(x, qh + l) >> 0) & 3) << 4)) - 32);
                    aux8[a + l + 32] = (byte) (((u8(x, q4 + l + 32) & 0xF) | (((u8(x, qh + l) >> 2) & 3) << 4)) - 32);
                    aux8[a + l + 64] = (byte) (((u8(x, q4 + l) >> 4) | (((u8(x, qh + l) >> 4) & 3) << 4)) - 32);
                    aux8[a + l + 96] = (byte) (((u8(x, q4 + l + 32) >> 4) | (((u8(x, qh + l) >> 6) & 3) << 4)) - 32);
                }
                a += 128; q4 += 64; qh += 32;
            }
            a = 0;
            int is = 0;
            for (int j = 0; j < 256 / 16; ++j) {
                int scale = x[xb + 192 + is++];
                for (int r = 0; r < 2; r++) {
                    for (int l = 0; l < 8; ++l) aux16[l] = (short) (y.qs[q8 + l] * aux8[a + l]);
                    for (int l = 0; l < 8; ++l) aux32[l] += scale * aux16[l];
                    q8 += 8; a += 8;
                }
            }
            float d = f16(x, xb + 208) * y.dK[i];
            for (int l = 0; l < 8; ++l) {
                sums[l] += d * aux32[l];
                mag += Math.abs(d * aux32[l]);
            }
        }
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return new Dot(sumf, mag);
    }
}
