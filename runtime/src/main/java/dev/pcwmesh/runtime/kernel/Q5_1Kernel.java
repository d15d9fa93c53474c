package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.pcwmesh.runtime.kernel.Lanes.BL;
import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;
import static dev.pcwmesh.runtime.kernel.Lanes.PARTS;

/**
 * Q5_1: blocks of 32 values, {@code {f16 d; f16 m; u8 qh[4]; u8 qs[16]}} (24 bytes). With
 * {@code qh} read as a little-endian uint32, value {@code j < 16} is
 * {@code ((qs[j] & 0xF) | bit j of qh << 4) * d + m}, value {@code j + 16} is
 * {@code ((qs[j] >> 4) | bit j+16 of qh << 4) * d + m}. Quantization is ggml's
 * {@code quantize_row_q5_1_ref}.
 */
final class Q5_1Kernel implements TypeKernel {
    private static final int QK = 32;
    private static final int BYTES = 24;

    @Override public GgmlType type() { return GgmlType.Q5_1; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            FloatVector d = FloatVector.broadcast(F, Lanes.half(data, off));
            FloatVector m = FloatVector.broadcast(F, Lanes.half(data, off + 2));
            ByteVector qh = Lanes.bytes(data, off + 4);
            int y = dstOffset + b * QK;
            for (int o = 0; o < QK / 2; o += BL) {
                ByteVector q = Lanes.bytes(data, off + 8 + o);
                ByteVector lo = q.and((byte) 0x0F).or(Lanes.highBits(qh, o));
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).or(Lanes.highBits(qh, QK / 2 + o));
                for (int p = 0; p < PARTS; p++) {
                    Lanes.floats(lo, p).mul(d).add(m).intoArray(dst, y + o + p * L);
                    Lanes.floats(hi, p).mul(d).add(m).intoArray(dst, y + QK / 2 + o + p * L);
                }
            }
        }
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.Q8_1; }

    /** ggml's x86 {@code ggml_vec_dot_q5_1_q8_1}: integer sums scaled by {@code dx * dy} into float lanes ({@link Int8Lanes#accumulate}), plus {@code mx * sy} per block. */
    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        Lanes.checkBlocks(first, n, QK);
        a.check(QuantizedActivations.VecDotType.Q8_1, aOffset, n);
        long base = first / QK * BYTES;
        FloatVector sum = FloatVector.zero(Int8Lanes.FI);
        float mins = 0;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            int ab = aOffset + b * QK;
            ByteVector qh = Int8Lanes.load(data, off + 4);
            IntVector acc = IntVector.zero(Int8Lanes.I);
            for (int o = 0; o < QK / 2; o += Int8Lanes.N) {
                ByteVector q = Int8Lanes.load(data, off + 8 + o);
                ByteVector lo = q.and((byte) 0x0F).or(Int8Lanes.highBits(qh, o));
                ByteVector hi = Int8Lanes.highNibbles(q).or(Int8Lanes.highBits(qh, QK / 2 + o));
                acc = acc.add(Int8Lanes.pairs(Int8Lanes.mul(lo, a.qs16, ab + o).add(Int8Lanes.mul(hi, a.qs16, ab + QK / 2 + o))));
            }
            int blk = ab / QK;
            sum = Int8Lanes.accumulate(sum, acc, Lanes.half(data, off) * a.d[blk]);
            mins += Lanes.half(data, off + 2) * a.s[blk];
        }
        return Vectors.sumLanes(Int8Lanes.FI, sum) + mins;
    }

    /** ggml's {@code quantize_row_q5_1_ref}. */
    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            int xs = srcOffset + b * QK;
            long off = base + (long) b * BYTES;
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = src[xs + j];
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0f ? 1.0f / d : 0.0f;
            Lanes.putHalf(dst, off, d);
            Lanes.putHalf(dst, off + 2, min);
            int qh = 0;
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = ((int) ((src[xs + j] - min) * id + 0.5f)) & 0xFF;
                int xi1 = ((int) ((src[xs + QK / 2 + j] - min) * id + 0.5f)) & 0xFF;
                dst.set(ValueLayout.JAVA_BYTE, off + 8 + j, (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4)));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            dst.set(Lanes.LE32, off + 4, qh);
        }
    }
}
