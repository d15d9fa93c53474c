package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;

/**
 * bfloat16, stored little-endian: the top 16 bits of an IEEE float. Encoding rounds to nearest
 * even and keeps NaNs quiet, as ggml's {@code ggml_compute_fp32_to_bf16}.
 */
final class BF16Kernel implements TypeKernel {
    /** Short lanes: a load of {@code SL} values widens to {@code SPARTS} float vectors ({@link #widen}). */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int SL = S.length();
    private static final int SPARTS = SL / L;

    @Override public GgmlType type() { return GgmlType.BF16; }

    static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    static short fromFloat(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 64); // NaN: force quiet
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** Part {@code part} of the bf16 values {@code h} as floats (exact: the bits shifted up). */
    static FloatVector widen(ShortVector h, int part) {
        return ((IntVector) h.convertShape(VectorOperators.ZERO_EXTEND_S2I, I, part)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        long base = first * 2;
        int i = 0;
        for (int upper = n - n % SL; i < upper; i += SL) {
            ShortVector h = ShortVector.fromMemorySegment(S, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < SPARTS; p++) widen(h, p).intoArray(dst, dstOffset + i + p * L);
        }
        for (; i < n; i++) dst[dstOffset + i] = toFloat(data.get(Lanes.LE16, base + 2L * i));
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.BF16; }

    /**
     * ggml's {@code ggml_vec_dot_bf16}: activations rounded to bf16 ({@link #prepare}), products
     * summed in f32, here in the order of {@link HalfGroups}: one chain of fused multiply-adds in
     * element order. (Matrices multiply through the groups; this one row at a time is for tests
     * and single rows.)
     */
    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        a.check(QuantizedActivations.VecDotType.BF16, aOffset, n);
        float sum = 0;
        for (int i = 0; i < n; i++) sum = Math.fma(toFloat(data.get(Lanes.LE16, (first + i) * 2)), a.values[aOffset + i], sum);
        return sum;
    }

    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        for (int i = 0; i < n; i++) dst.set(Lanes.LE16, (first + i) * 2, fromFloat(src[srcOffset + i]));
    }
}
