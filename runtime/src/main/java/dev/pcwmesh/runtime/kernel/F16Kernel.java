package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * IEEE 754 half precision, stored little-endian. Values are widened by
 * {@link Float#float16ToFloat} in plain loops, which C2 compiles to the CPU's conversion
 * instruction (x86's {@code vcvtph2ps}): about 60 ns for 576 values, where widening the bits
 * with Vector API shifts, blends and a scale took 600. Matrices multiply through
 * {@link HalfGroups}. Encoding rounds to nearest even ({@link Float#floatToFloat16}).
 */
final class F16Kernel implements TypeKernel {
    @Override public GgmlType type() { return GgmlType.F16; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        long base = first * 2;
        for (int i = 0; i < n; i++) dst[dstOffset + i] = Float.float16ToFloat(data.get(Lanes.LE16, base + 2L * i));
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.F16; }

    /**
     * ggml's {@code ggml_vec_dot_f16}: activations rounded to f16 ({@link #prepare}), products
     * summed in f32, here in the order of {@link HalfGroups}: one chain of fused multiply-adds in
     * element order. (Matrices multiply through the groups; this one row at a time is for tests
     * and single rows.)
     */
    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        a.check(QuantizedActivations.VecDotType.F16, aOffset, n);
        float sum = 0;
        for (int i = 0; i < n; i++) sum = Math.fma(Float.float16ToFloat(data.get(Lanes.LE16, (first + i) * 2)), a.values[aOffset + i], sum);
        return sum;
    }

    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        for (int i = 0; i < n; i++) Lanes.putHalf(dst, (first + i) * 2, src[srcOffset + i]);
    }
}
