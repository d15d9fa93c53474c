package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;

/**
 * IEEE 754 half precision, stored little-endian. Rows are widened by {@link Float#float16ToFloat}
 * in a plain loop, which C2 compiles to the CPU's conversion instruction eight values at a time
 * (x86's {@code vcvtph2ps}): about 60 ns for 576 values, where widening the bits with Vector API
 * shifts, blends and a scale took 600. The dot product widens the row into a per-thread buffer
 * and then multiplies as {@link #dotDecoded} does. Encoding rounds to nearest even
 * ({@link Float#floatToFloat16}).
 */
final class F16Kernel implements TypeKernel {
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Values per short load, a multiple of L. */
    static final int SL = S.length();
    static final int SPARTS = SL / L;

    @Override public GgmlType type() { return GgmlType.F16; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        long base = first * 2;
        for (int i = 0; i < n; i++) dst[dstOffset + i] = Float.float16ToFloat(data.get(Lanes.LE16, base + 2L * i));
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.F16; }

    /**
     * ggml's {@code ggml_vec_dot_f16}: activations rounded to f16 ({@link #prepare}), products
     * summed in f32, here in the order of {@link F16Groups}: one chain of fused multiply-adds in
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

    /**
     * The dot of an F16 or BF16 row already decoded to floats ({@code dequantize}, which is
     * exact) with prepared activations {@code x[xOffset, xOffset+n)}: the same products summed in
     * the same order as this kernel's and {@link BF16Kernel}'s {@code dot}, so the same result bit
     * for bit. {@link WeightMatrix#matMul} uses it to widen each half-precision row once per
     * batch instead of once per vector.
     */
    static float dotDecoded(float[] w, int wOffset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int upper = n - n % SL; i < upper; i += SL) {
            for (int p = 0; p < SPARTS; p++) acc = FloatVector.fromArray(F, w, wOffset + i + p * L).fma(FloatVector.fromArray(F, x, xOffset + i + p * L), acc);
        }
        float sum = Vectors.sumLanes(F, acc);
        for (; i < n; i++) sum += w[wOffset + i] * x[xOffset + i];
        return sum;
    }

    /**
     * {@link #dotDecoded} of one decoded row with four activation vectors at once, into
     * {@code out[0..4)}: each of the four sums is built exactly as {@code dotDecoded} builds it
     * (same products, same order, its own accumulator), so the results are the same bit for bit.
     * Four independent accumulators keep the FMA unit busy where one chain waits on its own
     * latency, and each row load serves four products.
     */
    static void dotDecoded4(float[] w, int wOffset, float[] x, int off0, int off1, int off2, int off3, int n, float[] out) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F), acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        int i = 0;
        for (int upper = n - n % SL; i < upper; i += SL) {
            for (int p = 0; p < SPARTS; p++) {
                int j = i + p * L;
                FloatVector wv = FloatVector.fromArray(F, w, wOffset + j);
                acc0 = wv.fma(FloatVector.fromArray(F, x, off0 + j), acc0);
                acc1 = wv.fma(FloatVector.fromArray(F, x, off1 + j), acc1);
                acc2 = wv.fma(FloatVector.fromArray(F, x, off2 + j), acc2);
                acc3 = wv.fma(FloatVector.fromArray(F, x, off3 + j), acc3);
            }
        }
        float s0 = Vectors.sumLanes(F, acc0), s1 = Vectors.sumLanes(F, acc1), s2 = Vectors.sumLanes(F, acc2), s3 = Vectors.sumLanes(F, acc3);
        for (; i < n; i++) {
            float wi = w[wOffset + i];
            s0 += wi * x[off0 + i];
            s1 += wi * x[off1 + i];
            s2 += wi * x[off2 + i];
            s3 += wi * x[off3 + i];
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    /**
     * {@link #dotDecoded4} of two decoded rows ({@code w} at {@code wOffset0} and
     * {@code wOffset1}) with the same four vectors, into {@code out[0..4)} and {@code out[4..8)},
     * each built as {@code dotDecoded} builds it. Each activation load serves two rows, which
     * halves the loads per FMA (with one row, four vectors take five loads per four FMAs, more than
     * a core's load ports give). Sixteen accumulators: for AVX-512's 32 vector registers
     * ({@link #TWO_ROWS}). The eight row sums go through {@code lanes} ({@code 8 * L} floats) to
     * {@link Vectors#sumStoredLanes}: eight lane sums inlined here would take this method past
     * C2's inlining node budget, and the ones left out would box their vectors.
     */
    /** Whether batched products take two rows at a time ({@link #dotDecoded2x4}): with 16-lane (512-bit) vectors, whose ISA has 32 registers. */
    static final boolean TWO_ROWS = L == 16;

    static void dotDecoded2x4(float[] w, int wOffset0, int wOffset1, float[] x, int off0, int off1, int off2, int off3, int n,
                              float[] out, float[] lanes) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        int i = 0;
        for (int upper = n - n % SL; i < upper; i += L) {
            FloatVector w0 = FloatVector.fromArray(F, w, wOffset0 + i), w1 = FloatVector.fromArray(F, w, wOffset1 + i);
            FloatVector x0 = FloatVector.fromArray(F, x, off0 + i);
            a00 = w0.fma(x0, a00);
            a10 = w1.fma(x0, a10);
            FloatVector x1 = FloatVector.fromArray(F, x, off1 + i);
            a01 = w0.fma(x1, a01);
            a11 = w1.fma(x1, a11);
            FloatVector x2 = FloatVector.fromArray(F, x, off2 + i);
            a02 = w0.fma(x2, a02);
            a12 = w1.fma(x2, a12);
            FloatVector x3 = FloatVector.fromArray(F, x, off3 + i);
            a03 = w0.fma(x3, a03);
            a13 = w1.fma(x3, a13);
        }
        a00.intoArray(lanes, 0);
        a01.intoArray(lanes, L);
        a02.intoArray(lanes, 2 * L);
        a03.intoArray(lanes, 3 * L);
        a10.intoArray(lanes, 4 * L);
        a11.intoArray(lanes, 5 * L);
        a12.intoArray(lanes, 6 * L);
        a13.intoArray(lanes, 7 * L);
        Vectors.sumStoredLanes(lanes, 8, out);
        int tail = i;
        for (int r = 0; r < 2; r++) {
            int wOffset = r == 0 ? wOffset0 : wOffset1;
            for (i = tail; i < n; i++) {
                float wi = w[wOffset + i];
                out[4 * r] += wi * x[off0 + i];
                out[4 * r + 1] += wi * x[off1 + i];
                out[4 * r + 2] += wi * x[off2 + i];
                out[4 * r + 3] += wi * x[off3 + i];
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        for (int i = 0; i < n; i++) Lanes.putHalf(dst, (first + i) * 2, src[srcOffset + i]);
    }
}
