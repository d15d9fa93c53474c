package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;

/**
 * Plain scalar transcriptions of ggml's {@code dequantize_row_*} (ggml/src/ggml-quants.c) over a
 * byte array, written independently of the vector kernels, one loop per type as in ggml.
 */
final class ReferenceDequant {
    private ReferenceDequant() {}

    static int u8(byte[] b, int i) { return b[i] & 0xFF; }

    static float f16(byte[] b, int i) { return Float.float16ToFloat((short) (u8(b, i) | (u8(b, i + 1) << 8))); }

    static int u32(byte[] b, int i) { return u8(b, i) | (u8(b, i + 1) << 8) | (u8(b, i + 2) << 16) | (u8(b, i + 3) << 24); }

    /** Decodes {@code k} values of {@code type} from {@code x} (which starts on a block). */
    static float[] dequantize(GgmlType type, byte[] x, int k) {
        float[] y = new float[k];
        switch (type) {
            case F32 -> { for (int i = 0; i < k; i++) y[i] = Float.intBitsToFloat(u32(x, 4 * i)); }
            case F16 -> { for (int i = 0; i < k; i++) y[i] = f16(x, 2 * i); }
            case BF16 -> { for (int i = 0; i < k; i++) y[i] = Float.intBitsToFloat((u8(x, 2 * i) | (u8(x, 2 * i + 1) << 8)) << 16); }
            case Q4_0 -> q4_0(x, y, k);
            case Q4_1 -> q4_1(x, y, k);
            case Q5_0 -> q5_0(x, y, k);
            case Q5_1 -> q5_1(x, y, k);
            case Q8_0 -> q8_0(x, y, k);
            case Q4_K -> q4_K(x, y, k);
            case Q5_K -> q5_K(x, y, k);
            case Q6_K -> q6_K(x, y, k);
            default -> throw new IllegalArgumentException("no reference for " + type);
        }
        return y;
    }

    static void q4_0(byte[] x, float[] y, int k) {
        int qk = 32;
        for (int i = 0; i < k / qk; i++) {
            int b = i * 18;
            float d = f16(x, b);
            for (int j = 0; j < qk / 2; j++) {
                int x0 = (u8(x, b + 2 + j) & 0x0F) - 8;
                int x1 = (u8(x, b + 2 + j) >> 4) - 8;
                y[i * qk + j] = x0 * d;
                y[i * qk + j + qk / 2] = x1 * d;
            }
        }
    }

    static void q4_1(byte[] x, float[] y, int k) {
        int qk = 32;
        for (int i = 0; i < k / qk; i++) {
            int b = i * 20;
            float d = f16(x, b);
            float m = f16(x, b + 2);
            for (int j = 0; j < qk / 2; j++) {
                int x0 = u8(x, b + 4 + j) & 0x0F;
                int x1 = u8(x, b + 4 + j) >> 4;
                y[i * qk + j] = x0 * d + m;
                y[i * qk + j + qk / 2] = x1 * d + m;
            }
        }
    }

    static void q5_0(byte[] x, float[] y, int k) {
        int qk = 32;
        for (int i = 0; i < k / qk; i++) {
            int b = i * 22;
            float d = f16(x, b);
            int qh = u32(x, b + 2);
            for (int j = 0; j < qk / 2; j++) {
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                int x0 = ((u8(x, b + 6 + j) & 0x0F) | xh0) - 16;
                int x1 = ((u8(x, b + 6 + j) >> 4) | xh1) - 16;
                y[i * qk + j] = x0 * d;
                y[i * qk + j + qk / 2] = x1 * d;
            }
        }
    }

    static void q5_1(byte[] x, float[] y, int k) {
        int qk = 32;
        for (int i = 0; i < k / qk; i++) {
            int b = i * 24;
            float d = f16(x, b);
            float m = f16(x, b + 2);
            int qh = u32(x, b + 4);
            for (int j = 0; j < qk / 2; j++) {
                int xh0 = ((qh >>> j) << 4) & 0x10;
                int xh1 = (qh >>> (j + 12)) & 0x10;
                int x0 = (u8(x, b + 8 + j) & 0x0F) | xh0;
                int x1 = (u8(x, b + 8 + j) >> 4) | xh1;
                y[i * qk + j] = x0 * d + m;
                y[i * qk + j + qk / 2] = x1 * d + m;
            }
        }
    }

    static void q8_0(byte[] x, float[] y, int k) {
        int qk = 32;
        for (int i = 0; i < k / qk; i++) {
            int b = i * 34;
            float d = f16(x, b);
            for (int j = 0; j < qk; j++) y[i * qk + j] = x[b + 2 + j] * d;
        }
    }

    /** get_scale_min_k4, returning {d, m}. */
    static int[] scaleMinK4(int j, byte[] x, int q) {
        if (j < 4) return new int[] {u8(x, q + j) & 63, u8(x, q + j + 4) & 63};
        return new int[] {(u8(x, q + j + 4) & 0xF) | ((u8(x, q + j - 4) >> 6) << 4),
                (u8(x, q + j + 4) >> 4) | ((u8(x, q + j) >> 6) << 4)};
    }

    static void q4_K(byte[] x, float[] y, int k) {
        int yi = 0;
        for (int i = 0; i < k / 256; i++) {
            int b = i * 144;
            int q = b + 16;
            float d = f16(x, b);
            float min = f16(x, b + 2);
            int is = 0;
            for (int j = 0; j < 256; j += 64) {
                int[] sm = scaleMinK4(is, x, b + 4);
                float d1 = d * sm[0], m1 = min * sm[1];
                sm = scaleMinK4(is + 1, x, b + 4);
                float d2 = d * sm[0], m2 = min * sm[1];
                for (int l = 0; l < 32; l++) y[yi++] = d1 * (u8(x, q + l) & 0xF) - m1;
                for (int l = 0; l < 32; l++) y[yi++] = d2 * (u8(x, q + l) >> 4) - m2;
                q += 32;
                is += 2;
            }
        }
    }

    static void q5_K(byte[] x, float[] y, int k) {
        int yi = 0;
        for (int i = 0; i < k / 256; i++) {
            int b = i * 176;
            int ql = b + 48;
            int qh = b + 16;
            float d = f16(x, b);
            float min = f16(x, b + 2);
            int is = 0;
            int u1 = 1, u2 = 2;
            for (int j = 0; j < 256; j += 64) {
                int[] sm = scaleMinK4(is, x, b + 4);
                float d1 = d * sm[0], m1 = min * sm[1];
                sm = scaleMinK4(is + 1, x, b + 4);
                float d2 = d * sm[0], m2 = min * sm[1];
                for (int l = 0; l < 32; l++) y[yi++] = d1 * ((u8(x, ql + l) & 0xF) + ((u8(x, qh + l) & u1) != 0 ? 16 : 0)) - m1;
                for (int l = 0; l < 32; l++) y[yi++] = d2 * ((u8(x, ql + l) >> 4) + ((u8(x, qh + l) & u2) != 0 ? 16 : 0)) - m2;
                ql += 32;
                is += 2;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }

    static void q6_K(byte[] x, float[] y, int k) {
        int yo = 0;
        for (int i = 0; i < k / 256; i++) {
            int b = i * 210;
            float d = f16(x, b + 208);
            int ql = b, qh = b + 128, sc = b + 192;
            for (int n = 0; n < 256; n += 128) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int q1 = (byte) ((u8(x, ql + l) & 0xF) | (((u8(x, qh + l) >> 0) & 3) << 4)) - 32;
                    int q2 = (byte) ((u8(x, ql + l + 32) & 0xF) | (((u8(x, qh + l) >> 2) & 3) << 4)) - 32;
                    int q3 = (byte) ((u8(x, ql + l) >> 4) | (((u8(x, qh + l) >> 4) & 3) << 4)) - 32;
                    int q4 = (byte) ((u8(x, ql + l + 32) >> 4) | (((u8(x, qh + l) >> 6) & 3) << 4)) - 32;
                    y[yo + l] = d * x[sc + is] * q1;
                    y[yo + l + 32] = d * x[sc + is + 2] * q2;
                    y[yo + l + 64] = d * x[sc + is + 4] * q3;
                    y[yo + l + 96] = d * x[sc + is + 6] * q4;
                }
                yo += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }
}
