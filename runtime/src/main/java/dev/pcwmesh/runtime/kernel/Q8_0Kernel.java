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
 * Q8_0: blocks of 32 values, {@code {f16 d; int8 qs[32]}} (34 bytes); value {@code j} is
 * {@code qs[j] * d}. Quantization is ggml's {@code quantize_row_q8_0_ref}.
 */
final class Q8_0Kernel implements Int8BlockKernel {
    private static final int BYTES = 34;

    @Override public GgmlType type() { return GgmlType.Q8_0; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            FloatVector d = FloatVector.broadcast(F, Lanes.half(data, off));
            int y = dstOffset + b * QK;
            for (int o = 0; o < QK; o += BL) {
                ByteVector q = Lanes.bytes(data, off + 2 + o);
                for (int p = 0; p < PARTS; p++) Lanes.floats(q, p).mul(d).intoArray(dst, y + o + p * L);
            }
        }
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.Q8_0; }

    @Override public int blockBytes() { return BYTES; }

    @Override public float scale(MemorySegment data, long off) { return Lanes.half(data, off); }

    @Override public int groupedBytes() { return QK; }

    @Override
    public void groupedQuants(MemorySegment data, long off, byte[] dst, int at, int stride) {
        for (int i = 0; i < QK; i++) dst[at + i * stride] = data.get(ValueLayout.JAVA_BYTE, off + 2 + i);
    }

    /** ggml's {@code ggml_vec_dot_q8_0_q8_0} in the order of {@link Int8BlockKernel}. */
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
            for (int e = 0; e < QK; e += BL) {
                ByteVector q = Lanes.bytes(data, off + 2 + e);
                for (int p = 0; p < PARTS; p++) block = Lanes.floats(q, p).fma(FloatVector.fromArray(F, x, ab + e + p * L), block);
            }
            sum = Math.fma(block.reduceLanes(VectorOperators.ADD), Lanes.half(data, off) * a.d[ab / QK], sum);
        }
        return sum;
    }

    /** ggml's {@code quantize_row_q8_0_ref}. */
    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        Lanes.checkBlocks(first, n, QK);
        long base = first / QK * BYTES;
        for (int b = 0; b < n / QK; b++) {
            int xs = srcOffset + b * QK;
            long off = base + (long) b * BYTES;
            float amax = 0f;
            for (int j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(src[xs + j]));
            float d = amax / ((1 << 7) - 1);
            float id = d != 0f ? 1.0f / d : 0.0f;
            Lanes.putHalf(dst, off, d);
            for (int j = 0; j < QK; j++) dst.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) (int) Lanes.roundf(src[xs + j] * id));
        }
    }
}
