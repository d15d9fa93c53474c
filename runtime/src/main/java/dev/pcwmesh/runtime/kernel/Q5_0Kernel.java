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
 * Q5_0: blocks of 32 values, {@code {f16 d; u8 qh[4]; u8 qs[16]}} (22 bytes). With {@code qh}
 * read as a little-endian uint32, value {@code j < 16} is
 * {@code ((qs[j] & 0xF) | bit j of qh << 4) - 16} times {@code d}, value {@code j + 16} is
 * {@code ((qs[j] >> 4) | bit j+16 of qh << 4) - 16} times {@code d}. Quantization is ggml's
 * {@code quantize_row_q5_0_ref}.
 */
final class Q5_0Kernel implements Int8BlockKernel {
    private static final int BYTES = 22;

    @Override public GgmlType type() { return GgmlType.Q5_0; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            FloatVector d = FloatVector.broadcast(F, Lanes.half(data, off));
            ByteVector qh = Lanes.bytes(data, off + 2);
            int y = dstOffset + b * QK;
            for (int o = 0; o < QK / 2; o += BL) {
                ByteVector q = Lanes.bytes(data, off + 6 + o);
                ByteVector lo = q.and((byte) 0x0F).or(Lanes.highBits(qh, o)).sub((byte) 16);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).or(Lanes.highBits(qh, QK / 2 + o)).sub((byte) 16);
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

    @Override public int groupedBytes() { return QK; }

    /** The block's values as int8, -16..15. */
    @Override
    public void groupedQuants(MemorySegment data, long off, byte[] dst, int at, int stride) {
        int qh = data.get(Lanes.LE32, off + 2);
        for (int j = 0; j < QK / 2; j++) {
            int q = data.get(ValueLayout.JAVA_BYTE, off + 6 + j);
            dst[at + j * stride] = (byte) (((q & 0x0F) | ((qh >>> j) & 1) << 4) - 16);
            dst[at + (j + QK / 2) * stride] = (byte) ((((q >> 4) & 0x0F) | ((qh >>> (j + QK / 2)) & 1) << 4) - 16);
        }
    }

    // Elements o.. are the low nibbles of qs[o..], elements 16+o.. the high ones, each with its
    // bit of qh as bit 4, less 16; taken apart in straight-line code, as in Q4_0Kernel (a ternary
    // between two vectors made C2 box them in some compiles).
    private static ByteVector low(ByteVector q, ByteVector qh, int o) {
        return q.and((byte) 0x0F).or(Lanes.highBits(qh, o)).sub((byte) 16);
    }

    private static ByteVector high(ByteVector q, ByteVector qh, int o) {
        return Lanes.shr(q, 4).and((byte) 0x0F).or(Lanes.highBits(qh, QK / 2 + o)).sub((byte) 16);
    }

    /** ggml's {@code ggml_vec_dot_q5_0_q8_0} in the order of {@link Int8BlockKernel}. */
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
            ByteVector qh = Lanes.bytes(data, off + 2);
            for (int o = 0; o < QK / 2; o += BL) {
                ByteVector q = Lanes.bytes(data, off + 6 + o);
                ByteVector lo = low(q, qh, o), hi = high(q, qh, o);
                for (int p = 0; p < PARTS; p++) {
                    block = Lanes.floats(lo, p).fma(FloatVector.fromArray(F, x, ab + o + p * L), block);
                    block = Lanes.floats(hi, p).fma(FloatVector.fromArray(F, x, ab + QK / 2 + o + p * L), block);
                }
            }
            sum = Math.fma(block.reduceLanes(VectorOperators.ADD), Lanes.half(data, off) * a.d[ab / QK], sum);
        }
        return sum;
    }

    /** ggml's {@code quantize_row_q5_0_ref}. */
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
            float d = max / -16;
            float id = d != 0f ? 1.0f / d : 0.0f;
            Lanes.putHalf(dst, off, d);
            int qh = 0;
            for (int j = 0; j < QK / 2; j++) {
                int xi0 = Math.min(31, (byte) (int) (src[xs + j] * id + 16.5f));
                int xi1 = Math.min(31, (byte) (int) (src[xs + QK / 2 + j] * id + 16.5f));
                dst.set(ValueLayout.JAVA_BYTE, off + 6 + j, (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4)));
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
            }
            dst.set(Lanes.LE32, off + 2, qh);
        }
    }
}
