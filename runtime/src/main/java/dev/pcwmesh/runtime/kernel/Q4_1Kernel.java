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
 * Q4_1: blocks of 32 values, {@code {f16 d; f16 m; u8 qs[16]}} (20 bytes). Value {@code j < 16}
 * is {@code (qs[j] & 0xF) * d + m}, value {@code j + 16} is {@code (qs[j] >> 4) * d + m}.
 * Quantization is ggml's {@code quantize_row_q4_1_ref}.
 */
final class Q4_1Kernel implements TypeKernel {
    private static final int QK = 32;
    private static final int BYTES = 20;

    @Override public GgmlType type() { return GgmlType.Q4_1; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            FloatVector d = FloatVector.broadcast(F, Lanes.half(data, off));
            FloatVector m = FloatVector.broadcast(F, Lanes.half(data, off + 2));
            int y = dstOffset + b * QK;
            for (int o = 0; o < QK / 2; o += BL) {
                ByteVector q = Lanes.bytes(data, off + 4 + o);
                ByteVector lo = q.and((byte) 0x0F);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4);
                for (int p = 0; p < PARTS; p++) {
                    Lanes.floats(lo, p).mul(d).add(m).intoArray(dst, y + o + p * L);
                    Lanes.floats(hi, p).mul(d).add(m).intoArray(dst, y + QK / 2 + o + p * L);
                }
            }
        }
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.Q8_1; }

    /** ggml's x86 {@code ggml_vec_dot_q4_1_q8_1}: integer sums scaled by {@code dx * dy} into float lanes ({@link Int8Lanes#accumulate}), plus {@code mx * sy} per block. */
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
            IntVector acc = IntVector.zero(Int8Lanes.I);
            for (int o = 0; o < QK / 2; o += Int8Lanes.N) {
                ByteVector q = Int8Lanes.load(data, off + 4 + o);
                acc = acc.add(Int8Lanes.pairs(Int8Lanes.mul(q.and((byte) 0x0F), a.qs16, ab + o)
                        .add(Int8Lanes.mul(Int8Lanes.highNibbles(q), a.qs16, ab + QK / 2 + o))));
            }
            int blk = ab / QK;
            sum = Int8Lanes.accumulate(sum, acc, Lanes.half(data, off) * a.d[blk]);
            mins += Lanes.half(data, off + 2) * a.s[blk];
        }
        return Vectors.sumLanes(Int8Lanes.FI, sum) + mins;
    }

    /** ggml's {@code quantize_row_q4_1_ref}. */
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
            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0f ? 1.0f / d : 0.0f;
            Lanes.putHalf(dst, off, d);
            Lanes.putHalf(dst, off + 2, min);
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = Math.min(15, (byte) (int) ((src[xs + j] - min) * id + 0.5f));
                int xi1 = Math.min(15, (byte) (int) ((src[xs + QK / 2 + j] - min) * id + 0.5f));
                dst.set(ValueLayout.JAVA_BYTE, off + 4 + j, (byte) (xi0 | (xi1 << 4)));
            }
        }
    }
}
