package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.pcwmesh.runtime.kernel.Lanes.BL;
import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;
import static dev.pcwmesh.runtime.kernel.Lanes.PARTS;

/**
 * Q4_0: blocks of 32 values, {@code {f16 d; u8 qs[16]}} (18 bytes). Value {@code j < 16} is
 * {@code ((qs[j] & 0xF) - 8) * d}, value {@code j + 16} is {@code ((qs[j] >> 4) - 8) * d}.
 * Quantization is ggml's {@code quantize_row_q4_0_ref}.
 */
final class Q4_0Kernel implements Int8BlockKernel {
    private static final int BYTES = 18;

    @Override public GgmlType type() { return GgmlType.Q4_0; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            FloatVector d = FloatVector.broadcast(F, Lanes.half(data, off));
            int y = dstOffset + b * QK;
            for (int o = 0; o < QK / 2; o += BL) {
                ByteVector q = Lanes.bytes(data, off + 2 + o);
                ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                for (int p = 0; p < PARTS; p++) {
                    Lanes.floats(lo, p).mul(d).intoArray(dst, y + o + p * L);
                    Lanes.floats(hi, p).mul(d).intoArray(dst, y + QK / 2 + o + p * L);
                }
            }
        }
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.Q8_0; }

    @Override public int blockBytes() { return BYTES; }

    @Override public float scale(MemorySegment data, long off) { return Lanes.half(data, off); }

    @Override public int groupedBytes() { return QK / 2; }

    @Override
    public void groupedQuants(MemorySegment data, long off, byte[] dst, int at, int stride) {
        for (int i = 0; i < QK / 2; i++) dst[at + i * stride] = data.get(ValueLayout.JAVA_BYTE, off + 2 + i);
    }

    // Elements o.. of a block are the low nibbles of qs[o..], elements 16+o.. the high ones,
    // both less 8. Low and high are taken apart in straight-line code: a choice between two
    // vectors (a ternary on the element index) made C2 merge them as objects in some compiles,
    // and the conversions after it then ran unintrinsified, allocating at every block.
    private static ByteVector low(ByteVector q) { return q.and((byte) 0x0F).sub((byte) 8); }

    private static ByteVector high(ByteVector q) { return Lanes.shr(q, 4).and((byte) 0x0F).sub((byte) 8); }

    /** ggml's {@code ggml_vec_dot_q4_0_q8_0} in the order of {@link Int8BlockKernel}. */
    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        a.check(QuantizedActivations.VecDotType.Q8_0, aOffset, n);
        Lanes.checkBlocks(first, n, QK);
        float[] x = a.qsFloat;
        long base = first / QK * BYTES;
        float sum = 0f;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            int ab = aOffset + b * QK;
            FloatVector block = FloatVector.zero(F);
            for (int o = 0; o < QK / 2; o += BL) {
                ByteVector q = Lanes.bytes(data, off + 2 + o);
                ByteVector lo = low(q), hi = high(q);
                for (int p = 0; p < PARTS; p++) {
                    block = Lanes.floats(lo, p).fma(FloatVector.fromArray(F, x, ab + o + p * L), block);
                    block = Lanes.floats(hi, p).fma(FloatVector.fromArray(F, x, ab + QK / 2 + o + p * L), block);
                }
            }
            sum = Math.fma(block.reduceLanes(VectorOperators.ADD), Lanes.half(data, off) * a.d[ab / QK], sum);
        }
        return sum;
    }

    /** ggml's {@code quantize_row_q4_0_ref}. */
    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            int xs = srcOffset + b * QK;
            long off = base + (long) b * BYTES;
            float amax = 0f, max = 0f;
            for (int j = 0; j < QK; j++) {
                float v = src[xs + j];
                if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
            }
            float d = max / -8;
            float id = d != 0f ? 1.0f / d : 0.0f;
            Lanes.putHalf(dst, off, d);
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = Math.min(15, (byte) (int) (src[xs + j] * id + 8.5f));
                int xi1 = Math.min(15, (byte) (int) (src[xs + QK / 2 + j] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) (xi0 | (xi1 << 4)));
            }
        }
    }
}
