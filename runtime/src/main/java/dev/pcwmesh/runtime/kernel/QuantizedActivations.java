package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * An activation vector converted once, before a mat-vec, to the form that the weight type's dot
 * product takes: ggml's {@code vec_dot_type}. ggml's CPU backend never multiplies quantized
 * weights by f32 activations; it first quantizes the activation row (Q8_0 blocks for Q4_0, Q5_0
 * and Q8_0 weights; Q8_1 for Q4_1 and Q5_1; Q8_K for the K-quants; f16 / bf16 for F16 / BF16
 * weights) and then takes integer dot products per block, scaled by the block scales. Doing the
 * same arithmetic is what gives llama.cpp's logits, and so its greedy tokens, on quantized models.
 *
 * <p>One object may hold several vectors one after the other (a batch): quantization works per
 * block and rows are whole blocks, so each vector's blocks are those it would have alone.
 * Instances are reused from call to call ({@link #prepare}), so nothing is allocated per mat-vec;
 * once prepared, they are only read, by any number of threads.
 */
public final class QuantizedActivations {

    /** ggml's {@code vec_dot_type}s, with their block sizes. */
    public enum VecDotType {
        F32(1), F16(1), BF16(1), Q8_0(32), Q8_1(32), Q8_K(KQuants.QK_K);

        final int blockSize;

        VecDotType(int blockSize) { this.blockSize = blockSize; }
    }

    final VecDotType type;
    /** Values held now (a multiple of the block size, at most the capacity). */
    int n;
    /** F32, F16, BF16: the values rounded to that type (exactly representable as floats). */
    final float[] values;
    /** Q8_1, Q8_K: the int8 quants (Q8_0 holds them as floats only: {@link #qsFloat}). */
    final byte[] qs;
    /**
     * Q8_0, Q8_1, Q8_K: the same quants widened to shorts once here, rather than once per weight row
     * in the dots (Q8_0's for Q4_0's 16-bit tile in {@link TiledProduct}, and 0 in a block whose
     * scale is not finite, where the float quants are NaN or 0).
     */
    final short[] qs16;
    /** Q8_0, Q8_K: the int8 quants, as floats, for the float-lane dots of {@link Int8BlockKernel} and {@link SuperBlockGroups}. */
    final float[] qsFloat;
    /**
     * Q8_*: the scale of each block. Q8_0 and Q8_1 store it as f16 in ggml, so this is the
     * f16-rounded value; Q8_K stores a float.
     */
    final float[] d;
    /** Q8_1: {@code d * sum(qs)} of each block, rounded to f16 as ggml stores it. */
    final float[] s;
    /** Q8_K: the sums of the quants in each group of 16 (ggml's {@code bsums}). */
    final short[] bsums;

    private QuantizedActivations(VecDotType type, int capacity) {
        this.type = type;
        boolean floats = type.blockSize == 1;
        this.values = floats ? new float[capacity] : null;
        this.qs = floats || type == VecDotType.Q8_0 ? null : new byte[capacity];
        this.qs16 = floats ? null : new short[capacity];
        this.qsFloat = type == VecDotType.Q8_0 || type == VecDotType.Q8_K ? new float[capacity] : null;
        this.d = floats ? null : new float[capacity / type.blockSize];
        this.s = type == VecDotType.Q8_1 ? new float[capacity / type.blockSize] : null;
        this.bsums = type == VecDotType.Q8_K ? new short[capacity / 16] : null;
    }

    int capacity() {
        return values != null ? values.length : qs != null ? qs.length : qsFloat.length;
    }

    /**
     * Converts {@code x[off, off+n)} to {@code type}, into {@code reuse} when it is of that type
     * and large enough, else into a new object; returns the one written.
     */
    static QuantizedActivations prepare(VecDotType type, float[] x, int off, int n, QuantizedActivations reuse) {
        if (n % type.blockSize != 0) throw new IllegalArgumentException(n + " values are not whole " + type + " blocks of " + type.blockSize);
        QuantizedActivations a = reuse != null && reuse.type == type && reuse.capacity() >= n ? reuse : new QuantizedActivations(type, n);
        a.n = n;
        switch (type) {
            case F32 -> System.arraycopy(x, off, a.values, 0, n);
            case F16 -> { for (int i = 0; i < n; i++) a.values[i] = Float.float16ToFloat(Float.floatToFloat16(x[off + i])); }
            case BF16 -> { for (int i = 0; i < n; i++) a.values[i] = BF16Kernel.toFloat(BF16Kernel.fromFloat(x[off + i])); }
            // a batch's blocks are quantized on all cores: on one, with the other idle, it was 6-7 % of a pp512 profile's samples
            case Q8_0 -> Parallel.forRange(n / 32, Parallel.minChunk(32), (from, to) -> a.quantizeQ8_0(x, off, from, to));
            case Q8_1 -> Parallel.forRange(n / 32, Parallel.minChunk(32), (from, to) -> a.quantizeQ8_1(x, off, from, to));
            case Q8_K -> Parallel.forRange(n / KQuants.QK_K, Parallel.minChunk(KQuants.QK_K), (from, to) -> a.quantizeQ8K(x, off, from, to));
        }
        return a;
    }

    /** Fails unless this holds {@code type} values covering {@code [first, first+len)}, whole blocks. */
    void check(VecDotType expected, int first, int len) {
        if (type != expected) throw new IllegalArgumentException("activations are " + type + ", the weights take " + expected);
        if (first < 0 || first + len > n || first % type.blockSize != 0 || len % type.blockSize != 0) {
            throw new IllegalArgumentException("activation range [" + first + ", " + (first + len) + ") is not whole " + type + " blocks of the " + n + " held");
        }
    }

    private static float toHalfPrecision(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /**
     * Q8_0 and Q8_1 as llama.cpp's x86 AVX/AVX2 {@code quantize_row_q8_0} / {@code quantize_row_q8_1}
     * (ggml-cpu/arch/x86/quants.c) compute them, not as the portable {@code quantize_row_q8_*_ref}:
     * the multiplier is {@code 127 / amax} (not {@code 1 / d}), values are rounded half to even
     * ({@code _mm256_round_ps(_MM_ROUND_NEAREST)}, not {@code roundf}), and Q8_1's {@code s} is
     * {@code d * sum(qs)} with the unrounded {@code d}. The reference llama.cpp ran on such a machine.
     * This is Q8_1's; Q8_0's, the same numbers, is {@link #quantizeQ8_0}.
     */
    private void quantizeQ8_1(float[] x, int off, int fromBlock, int toBlock) {
        for (int b = fromBlock; b < toBlock; b++) {
            int xs = off + 32 * b;
            float amax = 0f;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[xs + j]));
            float dRaw = amax / 127f;
            float id = amax != 0f ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int v = (int) Math.rint(x[xs + j] * id);
                sum += v;
                byte q = (byte) Math.max(-128, Math.min(127, v)); // the packs saturate
                qs[32 * b + j] = q;
                qs16[32 * b + j] = q;
            }
            d[b] = toHalfPrecision(dRaw);
            s[b] = toHalfPrecision(dRaw * sum);
        }
    }

    /** {@code 1.5 * 2^23}: adding and subtracting it rounds a float below 2^22 in magnitude to an integer, half to even. */
    private static final float ROUNDING = 12582912f;

    /**
     * {@link #quantizeQ8_1}'s numbers for Q8_0 in float lanes: the maximum magnitude is the same in any
     * order, and {@code (t + 1.5*2^23) - 1.5*2^23} is {@code rint(t)} for the {@code |t| <= 127}
     * here (ties to even, and +0 for a zero, as the int conversion gives). Scalar, this was 13 % of a
     * Q8_0 pp512 profile once the products ran as tiles.
     */
    private void quantizeQ8_0(float[] x, int off, int fromBlock, int toBlock) {
        VectorSpecies<Float> f = Lanes.F;
        for (int b = fromBlock; b < toBlock; b++) {
            int xs = off + 32 * b, qs0 = 32 * b;
            FloatVector max = FloatVector.zero(f);
            for (int j = 0; j < 32; j += f.length()) max = max.max(FloatVector.fromArray(f, x, xs + j).abs());
            float amax = max.reduceLanes(VectorOperators.MAX);
            float id = amax != 0f ? 127f / amax : 0f;
            for (int j = 0; j < 32; j += f.length()) {
                FloatVector q = FloatVector.fromArray(f, x, xs + j).mul(id).add(ROUNDING).sub(ROUNDING).max(-128f).min(127f);
                q.intoArray(qsFloat, qs0 + j);
                // a NaN quant (an infinite or NaN amax; the block's other quants are then 0) casts to
                // 0, as Java's (short) does, which keeps the 16-bit tile's products NaN like the float ones
                ((ShortVector) q.convertShape(VectorOperators.F2S, Lanes.S, 0)).intoArray(qs16, qs0 + j);
            }
            d[b] = toHalfPrecision(amax / 127f);
        }
    }

    /**
     * ggml's {@code quantize_row_q8_K_ref}, which x86 uses as is, in float lanes where the order
     * cannot matter: the largest magnitude (a maximum), its first element (the scalar scan's
     * {@code >}), {@code nearest_int(iscale * x)} as {@code (t + 1.5*2^23) - 1.5*2^23} (ties to
     * even and +0, as {@link #quantizeQ8_0}), and the sums of 16 exact small integers. Scalar, it
     * was 5.6 % of a Q4_K pp512 profile.
     */
    private void quantizeQ8K(float[] x, int off, int fromBlock, int toBlock) {
        VectorSpecies<Float> f = Lanes.F;
        int qk = KQuants.QK_K;
        for (int b = fromBlock; b < toBlock; b++) {
            int xs = off + qk * b, q0 = qk * b;
            FloatVector magnitudes = FloatVector.zero(f);
            for (int j = 0; j < qk; j += f.length()) magnitudes = magnitudes.max(FloatVector.fromArray(f, x, xs + j).abs());
            float amax = magnitudes.reduceLanes(VectorOperators.MAX);
            if (amax == 0f || !Float.isFinite(amax)) {  // zeros, NaNs, infinities: ggml's own steps
                quantizeQ8KScalar(x, xs, b);
                continue;
            }
            float max = 0f;
            for (int j = 0; j < qk; j += f.length()) {
                VectorMask<Float> at = FloatVector.fromArray(f, x, xs + j).abs().compare(VectorOperators.EQ, amax);
                if (at.anyTrue()) {
                    max = x[xs + j + at.firstTrue()];
                    break;
                }
            }
            float iscale = -127f / max;
            for (int j = 0; j < qk; j += f.length()) {
                FloatVector.fromArray(f, x, xs + j).mul(iscale).add(ROUNDING).sub(ROUNDING).min(127f).intoArray(qsFloat, q0 + j);
            }
            for (int g = 0; g < qk / 16; g++) {
                FloatVector sum = FloatVector.zero(f);
                for (int i = 0; i < 16; i += f.length()) sum = sum.add(FloatVector.fromArray(f, qsFloat, q0 + 16 * g + i));
                bsums[16 * b + g] = (short) sum.reduceLanes(VectorOperators.ADD);
            }
            d[b] = 1 / iscale;
        }
        for (int i = qk * fromBlock; i < qk * toBlock; i++) {
            qs[i] = (byte) qsFloat[i];
            qs16[i] = qs[i];
        }
    }

    /**
     * One block of {@link #quantizeQ8K} exactly as ggml's scalar code runs it, for blocks of zeros
     * or with NaNs or infinities; the quants go into {@code qsFloat}, which the caller copies to
     * {@code qs} and {@code qs16}.
     */
    private void quantizeQ8KScalar(float[] x, int xs, int b) {
        int qk = KQuants.QK_K;
        float max = 0f, amax = 0f;
        for (int j = 0; j < qk; j++) {
            float ax = Math.abs(x[xs + j]);
            if (ax > amax) { amax = ax; max = x[xs + j]; }
        }
        if (amax == 0f) {
            // ggml leaves bsums as they were; with d = 0 they do not matter, but keep them defined
            d[b] = 0f;
            java.util.Arrays.fill(qsFloat, qk * b, qk * (b + 1), 0f);
            java.util.Arrays.fill(bsums, 16 * b, 16 * (b + 1), (short) 0);
            return;
        }
        float iscale = -127f / max;
        for (int j = 0; j < qk; j++) qsFloat[qk * b + j] = (byte) Math.min(127, Lanes.nearestInt(iscale * x[xs + j]));
        for (int g = 0; g < qk / 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += (int) qsFloat[qk * b + 16 * g + i];
            bsums[16 * b + g] = (short) sum;
        }
        d[b] = 1 / iscale;
    }
}
