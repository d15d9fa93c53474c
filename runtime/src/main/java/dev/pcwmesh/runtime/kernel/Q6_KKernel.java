package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.pcwmesh.runtime.kernel.KQuants.QK_K;
import static dev.pcwmesh.runtime.kernel.Lanes.BL;
import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;
import static dev.pcwmesh.runtime.kernel.Lanes.PARTS;

/**
 * Q6_K: super-blocks of 256 values, {@code {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}} (210
 * bytes), sixteen groups of 16 with a signed 8-bit scale. Each half of 128 values uses 64
 * {@code ql} bytes, 32 {@code qh} bytes and 8 scales: for {@code l < 32}, values {@code l},
 * {@code l+32}, {@code l+64}, {@code l+96} take the low nibble of {@code ql[l]}, of
 * {@code ql[l+32]}, the high nibble of {@code ql[l]}, of {@code ql[l+32]}, with bit pairs 0-1,
 * 2-3, 4-5, 6-7 of {@code qh[l]} above them, minus 32, times {@code d * scales[l/16 + 0, 2, 4, 6]}.
 * Quantization is ggml's {@code quantize_row_q6_K_ref}.
 */
final class Q6_KKernel implements TypeKernel {
    private static final int BYTES = 210;

    @Override public GgmlType type() { return GgmlType.Q6_K; }

    private static float scale(MemorySegment data, long off, int i) {
        return data.get(ValueLayout.JAVA_BYTE, off + 192 + i);
    }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        Lanes.checkBlocks(first, n, QK_K);
        long base = first / QK_K * BYTES;
        for (int b = 0; b < n / QK_K; b++) {
            long off = base + (long) b * BYTES;
            float d = Lanes.half(data, off + 208);
            for (int h = 0; h < 2; h++) {
                long ql = off + 64 * h;
                long qh = off + 128 + 32 * h;
                int y = dstOffset + b * QK_K + 128 * h;
                for (int l = 0; l < 32; l += BL) {
                    int is = 8 * h + l / 16;
                    FloatVector s1 = FloatVector.broadcast(F, d * scale(data, off, is));
                    FloatVector s2 = FloatVector.broadcast(F, d * scale(data, off, is + 2));
                    FloatVector s3 = FloatVector.broadcast(F, d * scale(data, off, is + 4));
                    FloatVector s4 = FloatVector.broadcast(F, d * scale(data, off, is + 6));
                    ByteVector qa = Lanes.bytes(data, ql + l);
                    ByteVector qb = Lanes.bytes(data, ql + 32 + l);
                    ByteVector hb = Lanes.bytes(data, qh + l);
                    ByteVector q1 = qa.and((byte) 0x0F).or(hb.and((byte) 0x03).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = qb.and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q3 = qa.lanewise(VectorOperators.LSHR, 4).or(hb.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = qb.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    for (int p = 0; p < PARTS; p++) {
                        int yo = y + l + p * L;
                        s1.mul(Lanes.floats(q1, p)).intoArray(dst, yo);
                        s2.mul(Lanes.floats(q2, p)).intoArray(dst, yo + 32);
                        s3.mul(Lanes.floats(q3, p)).intoArray(dst, yo + 64);
                        s4.mul(Lanes.floats(q4, p)).intoArray(dst, yo + 96);
                    }
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment data, long first, float[] x, int xOffset, int n) {
        Lanes.checkBlocks(first, n, QK_K);
        long base = first / QK_K * BYTES;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        for (int b = 0; b < n / QK_K; b++) {
            long off = base + (long) b * BYTES;
            float d = Lanes.half(data, off + 208);
            for (int h = 0; h < 2; h++) {
                long ql = off + 64 * h;
                long qh = off + 128 + 32 * h;
                int xb = xOffset + b * QK_K + 128 * h;
                for (int l = 0; l < 32; l += BL) {
                    int is = 8 * h + l / 16;
                    FloatVector s1 = FloatVector.broadcast(F, d * scale(data, off, is));
                    FloatVector s2 = FloatVector.broadcast(F, d * scale(data, off, is + 2));
                    FloatVector s3 = FloatVector.broadcast(F, d * scale(data, off, is + 4));
                    FloatVector s4 = FloatVector.broadcast(F, d * scale(data, off, is + 6));
                    ByteVector qa = Lanes.bytes(data, ql + l);
                    ByteVector qb = Lanes.bytes(data, ql + 32 + l);
                    ByteVector hb = Lanes.bytes(data, qh + l);
                    ByteVector q1 = qa.and((byte) 0x0F).or(hb.and((byte) 0x03).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = qb.and((byte) 0x0F).or(hb.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q3 = qa.lanewise(VectorOperators.LSHR, 4).or(hb.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = qb.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    for (int p = 0; p < PARTS; p++) {
                        int xo = xb + l + p * L;
                        acc0 = s1.mul(Lanes.floats(q1, p)).fma(FloatVector.fromArray(F, x, xo), acc0);
                        acc1 = s2.mul(Lanes.floats(q2, p)).fma(FloatVector.fromArray(F, x, xo + 32), acc1);
                        acc0 = s3.mul(Lanes.floats(q3, p)).fma(FloatVector.fromArray(F, x, xo + 64), acc0);
                        acc1 = s4.mul(Lanes.floats(q4, p)).fma(FloatVector.fromArray(F, x, xo + 96), acc1);
                    }
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    private static final float GROUP_MAX_EPS = 1e-15f;

    /** ggml's {@code quantize_row_q6_K_ref}. */
    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        Lanes.checkBlocks(first, n, QK_K);
        long base = first / QK_K * BYTES;
        int[] lq = new int[QK_K];
        float[] scales = new float[16];
        for (int b = 0; b < n / QK_K; b++) {
            int xs = srcOffset + b * QK_K;
            long off = base + (long) b * BYTES;
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++) {
                float scale = KQuants.makeQxQuants(16, 32, src, xs + 16 * ib, lq, 16 * ib);
                scales[ib] = scale;
                float abs = Math.abs(scale);
                if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scale; }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                dst.asSlice(off, BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -128f / maxScale;
            Lanes.putHalf(dst, off + 208, 1 / iscale);
            for (int ib = 0; ib < 16; ib++) {
                dst.set(ValueLayout.JAVA_BYTE, off + 192 + ib, (byte) Math.min(127, Lanes.nearestInt(iscale * scales[ib])));
            }
            float dd = Lanes.half(dst, off + 208);
            for (int j = 0; j < 16; j++) {
                float d = dd * scale(dst, off, j);
                if (d == 0f) continue;
                for (int ii = 0; ii < 16; ii++) {
                    int l = Lanes.nearestInt(src[xs + 16 * j + ii] / d);
                    lq[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
                }
            }
            for (int j = 0; j < QK_K; j += 128) {
                long ql = off + j / 2;
                long qh = off + 128 + j / 4;
                for (int l = 0; l < 32; l++) {
                    int q1 = lq[j + l] & 0xF, q2 = lq[j + l + 32] & 0xF, q3 = lq[j + l + 64] & 0xF, q4 = lq[j + l + 96] & 0xF;
                    dst.set(ValueLayout.JAVA_BYTE, ql + l, (byte) (q1 | (q3 << 4)));
                    dst.set(ValueLayout.JAVA_BYTE, ql + l + 32, (byte) (q2 | (q4 << 4)));
                    dst.set(ValueLayout.JAVA_BYTE, qh + l, (byte) ((lq[j + l] >> 4) | ((lq[j + l + 32] >> 4) << 2)
                            | ((lq[j + l + 64] >> 4) << 4) | ((lq[j + l + 96] >> 4) << 6)));
                }
            }
        }
    }
}
