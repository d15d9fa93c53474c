package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
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
final class Q8_0Kernel implements TypeKernel {
    private static final int QK = 32;
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

    /** ggml's {@code ggml_vec_dot_q8_0_q8_0_generic}: {@code sumf += sumi * (dx * dy)} per block. */
    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        Lanes.checkBlocks(first, n, QK);
        a.check(QuantizedActivations.VecDotType.Q8_0, aOffset, n);
        long base = first / QK * BYTES;
        float sumf = 0;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            int ab = aOffset + b * QK;
            IntVector acc = IntVector.zero(Int8Lanes.I);
            for (int o = 0; o < QK / 2; o += Int8Lanes.N) {
                acc = acc.add(Int8Lanes.pairs(Int8Lanes.mul(Int8Lanes.load(data, off + 2 + o), a.qs16, ab + o)
                        .add(Int8Lanes.mul(Int8Lanes.load(data, off + 2 + QK / 2 + o), a.qs16, ab + QK / 2 + o))));
            }
            int sumi = acc.reduceLanes(VectorOperators.ADD);
            sumf += sumi * (Lanes.half(data, off) * a.d[ab / QK]);
        }
        return sumf;
    }

    /**
     * {@link #dot} of one stored row with four prepared activation vectors: each block's quants
     * are loaded and widened once for all four, and each sum is built exactly as {@code dot}
     * builds it (same integer sums, same float order), so the results are the same bit for bit.
     */
    @Override
    public void dot4(MemorySegment data, long first, QuantizedActivations a, int off0, int off1, int off2, int off3, int n, float[] out) {
        Lanes.checkBlocks(first, n, QK);
        for (int off : new int[] {off0, off1, off2, off3}) a.check(QuantizedActivations.VecDotType.Q8_0, off, n);
        long base = first / QK * BYTES;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int b = 0; b < n / QK; b++) {
            long off = base + (long) b * BYTES;
            int a0 = off0 + b * QK, a1 = off1 + b * QK, a2 = off2 + b * QK, a3 = off3 + b * QK;
            IntVector acc0 = IntVector.zero(Int8Lanes.I), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int o = 0; o < QK / 2; o += Int8Lanes.N) {
                ShortVector lo = Int8Lanes.widen(Int8Lanes.load(data, off + 2 + o));
                ShortVector hi = Int8Lanes.widen(Int8Lanes.load(data, off + 2 + QK / 2 + o));
                acc0 = acc0.add(Int8Lanes.pairs(Int8Lanes.mul(lo, a.qs16, a0 + o).add(Int8Lanes.mul(hi, a.qs16, a0 + QK / 2 + o))));
                acc1 = acc1.add(Int8Lanes.pairs(Int8Lanes.mul(lo, a.qs16, a1 + o).add(Int8Lanes.mul(hi, a.qs16, a1 + QK / 2 + o))));
                acc2 = acc2.add(Int8Lanes.pairs(Int8Lanes.mul(lo, a.qs16, a2 + o).add(Int8Lanes.mul(hi, a.qs16, a2 + QK / 2 + o))));
                acc3 = acc3.add(Int8Lanes.pairs(Int8Lanes.mul(lo, a.qs16, a3 + o).add(Int8Lanes.mul(hi, a.qs16, a3 + QK / 2 + o))));
            }
            float dw = Lanes.half(data, off);
            s0 += acc0.reduceLanes(VectorOperators.ADD) * (dw * a.d[a0 / QK]);
            s1 += acc1.reduceLanes(VectorOperators.ADD) * (dw * a.d[a1 / QK]);
            s2 += acc2.reduceLanes(VectorOperators.ADD) * (dw * a.d[a2 / QK]);
            s3 += acc3.reduceLanes(VectorOperators.ADD) * (dw * a.d[a3 / QK]);
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
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
