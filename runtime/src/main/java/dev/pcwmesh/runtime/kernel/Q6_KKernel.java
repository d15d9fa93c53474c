package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

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
final class Q6_KKernel implements SuperBlockKernel {
    private static final int BYTES = 210;

    @Override public GgmlType type() { return GgmlType.Q6_K; }

    private static float scale(MemorySegment data, long off, int i) {
        return data.get(ValueLayout.JAVA_BYTE, off + 192 + i);
    }

    /**
     * {@code v << s} per byte, for bytes whose top {@code s} bits are clear: a 16-bit shift then
     * moves no bit across a byte boundary (byte shifts left have no x86 instruction).
     */
    private static ByteVector shl(ByteVector v, int s) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHL, s).reinterpretAsBytes();
    }

    /**
     * The quants of group {@code g} (0..3: values {@code 32g + l} of a half) for
     * {@code l in [l0, l0+BL)}, minus 32: nibble {@code g >> 1} of {@code ql[32*(g & 1) + l]} with
     * bits {@code 2g, 2g+1} of {@code qh[l]} above it. One loop over {@code g} rather than four
     * copies keeps the method small enough for C2 to inline every vector call.
     */
    private static ByteVector quants(MemorySegment data, long ql, ByteVector hb, int g, int l0) {
        ByteVector lo = Lanes.shr(Lanes.bytes(data, ql + 32 * (g & 1) + l0), 4 * (g >> 1)).and((byte) 0x0F);
        return lo.or(shl(Lanes.shr(hb, 2 * g).and((byte) 0x03), 4)).sub((byte) 32);
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
                int y = dstOffset + b * QK_K + 128 * h;
                for (int l = 0; l < 32; l += BL) {
                    ByteVector hb = Lanes.bytes(data, off + 128 + 32 * h + l);
                    for (int g = 0; g < 4; g++) {
                        FloatVector s = FloatVector.broadcast(F, d * scale(data, off, 8 * h + l / 16 + 2 * g));
                        ByteVector q = quants(data, ql, hb, g, l);
                        for (int p = 0; p < PARTS; p++) s.mul(Lanes.floats(q, p)).intoArray(dst, y + 32 * g + l + p * L);
                    }
                }
            }
        }
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.Q8_K; }

    @Override public int blockBytes() { return BYTES; }

    @Override public int subBlocks() { return 16; }

    @Override public int maxQuant() { return 32; }

    @Override public int maxScale() { return 128; }

    @Override public float d(MemorySegment data, long off) { return Lanes.half(data, off + 208); }

    /** Scale {@code i} (0..15) is that of values {@code [16i, 16i+16)}, as in {@link #unpack}. */
    @Override
    public void split(MemorySegment data, long off, byte[] q, byte[] scales, byte[] mins) {
        for (int i = 0; i < 16; i++) scales[i] = data.get(ValueLayout.JAVA_BYTE, off + 192 + i);
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l += Int8Lanes.N) {
                ByteVector hb = Int8Lanes.load(data, off + 128 + 32 * half + l);
                for (int g = 0; g < 4; g++) quants8(data, off + 64 * half, hb, g, l).intoArray(q, 128 * half + 32 * g + l);
            }
        }
    }

    /** Q6_K has no mins: its quants are signed (less 32). */
    @Override
    public void unpack(MemorySegment data, long off, float[] values, int at, float[] header, int h) {
        Arrays.fill(header, h, h + HEADER, 0f);
        header[h] = Lanes.half(data, off + 208);
        for (int half = 0; half < 2; half++) {
            long ql = off + 64 * half;
            for (int l = 0; l < 32; l += Int8Lanes.N) {
                ByteVector hb = Int8Lanes.load(data, off + 128 + 32 * half + l);
                for (int g = 0; g < 4; g++) {
                    int scale = data.get(ValueLayout.JAVA_BYTE, off + 192 + 8 * half + l / 16 + 2 * g);
                    SuperBlockFloats.put(quants8(data, ql, hb, g, l), scale, values, at + 128 * half + 32 * g + l);
                }
            }
        }
    }

    /**
     * The quants of group {@code g} (0..3: values {@code 32g + l} of a half) for
     * {@code l in [l0, l0+N)}, minus 32, as {@link #quants} but in {@link Int8Lanes}' chunks.
     */
    private static ByteVector quants8(MemorySegment data, long ql, ByteVector hb, int g, int l0) {
        ByteVector lo = Int8Lanes.shr(Int8Lanes.load(data, ql + 32 * (g & 1) + l0), 4 * (g >> 1)).and((byte) 0x0F);
        return lo.or(Int8Lanes.shl(Int8Lanes.shr(hb, 2 * g).and((byte) 0x03), 4)).sub((byte) 32);
    }

    /**
     * ggml's {@code ggml_vec_dot_q6_K_q8_K_generic}: per super-block the integer sum of
     * {@code scale_g * (q . q8)} over the 16 groups, scaled by {@code d * y.d}. (ggml keeps it as
     * eight lane sums, each scaled by itself; that changes only the float rounding, as does
     * converting a sum beyond 2^24 to float.)
     */
    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        Lanes.checkBlocks(first, n, QK_K);
        a.check(QuantizedActivations.VecDotType.Q8_K, aOffset, n);
        long base = first / QK_K * BYTES;
        float sumf = 0;
        for (int b = 0; b < n / QK_K; b++) {
            long off = base + (long) b * BYTES;
            int ab = aOffset + b * QK_K;
            IntVector acc = IntVector.zero(Int8Lanes.I);
            for (int h = 0; h < 2; h++) {
                long ql = off + 64 * h;
                for (int l = 0; l < 32; l += Int8Lanes.N) {
                    ByteVector hb = Int8Lanes.load(data, off + 128 + 32 * h + l);
                    for (int g = 0; g < 4; g++) {
                        int sc = data.get(ValueLayout.JAVA_BYTE, off + 192 + 8 * h + l / 16 + 2 * g);
                        ByteVector q = quants8(data, ql, hb, g, l);
                        acc = acc.add(Int8Lanes.pairs(Int8Lanes.mul(q, a.qs16, ab + 128 * h + 32 * g + l)).mul(sc));
                    }
                }
            }
            int isum = acc.reduceLanes(VectorOperators.ADD);
            sumf += (Lanes.half(data, off + 208) * a.d[ab / QK_K]) * isum;
        }
        return sumf;
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
