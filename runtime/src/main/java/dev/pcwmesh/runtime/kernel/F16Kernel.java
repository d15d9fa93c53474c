package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * IEEE 754 half precision, stored little-endian. Matrices multiply through {@link HalfGroups},
 * which widens L values at a time in registers ({@link #widen}). Encoding rounds to nearest
 * even ({@link Float#floatToFloat16}).
 */
final class F16Kernel implements TypeKernel {
    private static final VectorSpecies<Integer> I = Lanes.F.withLanes(int.class);

    /**
     * The f16 bits in the {@link BF16Kernel#S} lanes of {@code h} as floats, each exactly
     * {@link Float#float16ToFloat}: the exponent and mantissa shifted into a float's place and
     * scaled by 2^112 (which moves the exponent bias from 15 to 127 and makes subnormals normal,
     * exactly), the sign put back, and infinities and NaNs (exponent 31) given the float's
     * exponent 255 with their mantissa. The Vector API has no half-precision conversion; a plain
     * loop of {@code float16ToFloat}, which C2 compiles to {@code vcvtph2ps}, needs a pass
     * through memory, and F16 decode through it reached about half the speed of BF16's.
     */
    static FloatVector widen(ShortVector h) {
        IntVector bits = (IntVector) h.convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
        IntVector magnitude = bits.and(0x7fff), sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector widened = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().or(sign);
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7c00);
        if (special.anyTrue()) widened = widened.blend(shifted.or(0x7f800000).or(sign), special);
        return widened.reinterpretAsFloats();
    }

    /**
     * {@link #widen} for halves that are all finite (exponent below 31), in four instructions
     * rather than nine: sign-extended and shifted left by 13, the exponent and mantissa are in a
     * float's place, the sign in bit 31 and copies of it in bits 28-30, which the mask clears; the
     * scale by 2^112 then keeps the sign. Row groups take it when their matrix holds no infinity
     * or NaN ({@link HalfGroups}), as weights do.
     */
    static FloatVector widenFinite(ShortVector h) {
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        return bits.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretAsFloats().mul(0x1p112f);
    }

    /** Whether the f16 bits {@code h} are an infinity or a NaN (exponent 31), which {@link #widenFinite} does not take. */
    static boolean isSpecial(short h) {
        return (h & 0x7c00) == 0x7c00;
    }

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
