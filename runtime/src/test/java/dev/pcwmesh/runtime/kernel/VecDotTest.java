package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.kernel.QuantizedActivations.VecDotType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The activation conversion ({@link TypeKernel#prepare}) and the dot products on prepared
 * activations against {@link ReferenceVecDot}, the scalar transcription of ggml.
 */
class VecDotTest {

    /** Every type with a kernel. */
    enum W {
        F32(GgmlType.F32), F16(GgmlType.F16), BF16(GgmlType.BF16), Q8_0(GgmlType.Q8_0), Q4_0(GgmlType.Q4_0), Q4_1(GgmlType.Q4_1),
        Q5_0(GgmlType.Q5_0), Q5_1(GgmlType.Q5_1), Q4_K(GgmlType.Q4_K), Q5_K(GgmlType.Q5_K), Q6_K(GgmlType.Q6_K);
        final GgmlType type;
        W(GgmlType type) { this.type = type; }
    }

    /** The vec_dot_type of each weight type, as ggml-cpu.c's {@code type_traits_cpu} table has it. */
    static VecDotType expectedVecDotType(GgmlType t) {
        return switch (t) {
            case F32 -> VecDotType.F32;
            case F16 -> VecDotType.F16;
            case BF16 -> VecDotType.BF16;
            case Q4_0, Q5_0, Q8_0 -> VecDotType.Q8_0;
            case Q4_1, Q5_1 -> VecDotType.Q8_1;
            case Q4_K, Q5_K, Q6_K -> VecDotType.Q8_K;
            default -> throw new AssertionError(t);
        };
    }

    /** Gaussian values times a per-block scale from 1e-4 to 100 (within f16 range), with some zero blocks and outliers. */
    static float[] activations(int n, Random r) {
        float[] x = new float[n];
        for (int b = 0; b < n; b += 32) {
            int kind = r.nextInt(8);
            float scale = kind == 0 ? 0f : (float) Math.pow(10, r.nextInt(7) - 4);
            for (int i = b; i < Math.min(n, b + 32); i++) x[i] = (float) r.nextGaussian() * scale;
            if (kind == 1) x[b + r.nextInt(Math.min(32, n - b))] *= 40;
        }
        return x;
    }

    /** Random weight blocks: {@link QuantKernelTest#randomBlocks} for the block types, finite random floats for F32. */
    static byte[] weights(GgmlType t, int blocks, Random r) {
        if (t == GgmlType.F32) {
            byte[] b = new byte[4 * blocks];
            for (int i = 0; i < blocks; i++) {
                int v = Float.floatToRawIntBits((float) r.nextGaussian() * 2);
                for (int k = 0; k < 4; k++) b[4 * i + k] = (byte) (v >>> (8 * k));
            }
            return b;
        }
        return QuantKernelTest.randomBlocks(t, blocks, r);
    }

    static void assertSameBits(float expected, float actual, String what) {
        if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(actual)) fail(what + ": " + actual + ", expected " + expected);
    }

    /** Prepared activations equal ggml's conversion of the same values: quants, scales, sums. */
    static void assertPreparedLikeReference(GgmlType t, QuantizedActivations a, int aOffset, ReferenceVecDot.Q8 ref, int n, String what) {
        int bs = a.type.blockSize;
        switch (a.type) {
            case F32, F16, BF16 -> {
                for (int i = 0; i < n; i++) assertSameBits(ref.values[i], a.values[aOffset + i], what + " value " + i);
            }
            case Q8_0, Q8_1 -> {
                if (a.type == VecDotType.Q8_1) assertArrayEquals(ref.qs, Arrays.copyOfRange(a.qs, aOffset, aOffset + n), what + " quants");
                for (int b = 0; b < n / bs; b++) {
                    assertSameBits(Float.float16ToFloat(ref.d16[b]), a.d[aOffset / bs + b], what + " d of block " + b);
                    if (a.type == VecDotType.Q8_1) assertSameBits(Float.float16ToFloat(ref.s16[b]), a.s[aOffset / bs + b], what + " s of block " + b);
                    if (a.type == VecDotType.Q8_0) {
                        // Q8_0 holds its quants as floats and as shorts only, for the row groups
                        for (int i = b * bs; i < (b + 1) * bs; i++) {
                            assertSameBits(ref.qs[i], a.qsFloat[aOffset + i], what + " quant " + i + " as a float");
                            assertEquals(ref.qs[i], a.qs16[aOffset + i], what + " quant " + i + " as a short");
                        }
                    }
                }
            }
            case Q8_K -> {
                assertArrayEquals(ref.qs, Arrays.copyOfRange(a.qs, aOffset, aOffset + n), what + " quants");
                for (int i = 0; i < n; i++) assertSameBits(ref.qs[i], a.qsFloat[aOffset + i], what + " quant " + i + " as a float");
                assertArrayEquals(ref.bsums, Arrays.copyOfRange(a.bsums, aOffset / 16, (aOffset + n) / 16), what + " bsums");
                for (int b = 0; b < n / bs; b++) assertSameBits(ref.dK[b], a.d[aOffset / bs + b], what + " d of block " + b);
            }
        }
    }

    /**
     * The dot equals ggml's generic one within 1e-5 of the summed magnitudes of its terms: the
     * kernels sum in another order (per-lane float sums over the row, as ggml's x86 kernels do).
     */
    static void assertDotLikeReference(GgmlType t, float got, ReferenceVecDot.Dot ref, String what) {
        double err = Math.abs((double) got - ref.value());
        if (!(err <= 1e-5 * ref.magnitude() + 1e-30)) {
            fail(what + ": " + t + " dot " + got + " vs reference " + ref.value() + " (error " + err + ", allowed " + 1e-5 * ref.magnitude() + ")");
        }
    }

    @ParameterizedTest
    @EnumSource(W.class)
    void vecDotTypeIsGgmls(W w) {
        assertEquals(expectedVecDotType(w.type), TypeKernel.of(w.type).vecDotType());
    }

    @ParameterizedTest
    @EnumSource(W.class)
    void preparedActivationsEqualReferenceBitForBit(W w) {
        GgmlType t = w.type;
        TypeKernel k = TypeKernel.of(t);
        Random r = new Random(3 + t.id());
        int n = 12 * 256;
        for (int rep = 0; rep < 20; rep++) {
            float[] x = activations(n + 7, r);
            QuantizedActivations a = k.prepare(x, 7, n, null);
            float[] sub = Arrays.copyOfRange(x, 7, 7 + n);
            assertPreparedLikeReference(t, a, 0, ReferenceVecDot.prepare(t, sub, n), n, t + " rep " + rep);
        }
    }

    /** Quant {@code i} of prepared activations: Q8_0 holds its quants as floats only. */
    private static int quant(QuantizedActivations a, int i) {
        return a.type == VecDotType.Q8_0 ? (int) a.qsFloat[i] : a.qs[i];
    }

    /** Values that land exactly halfway between two integers round to even, as {@code _MM_ROUND_NEAREST} and {@code nearest_int} do. */
    @Test
    void activationQuantizationRoundsTiesToEven() {
        float[] x = new float[256];
        // Q8_0/Q8_1: amax 127 gives multiplier 127/127 = 1 exactly; Q8_K: max -127 gives iscale -127/-127 = 1
        x[0] = -127f;
        float[] ties = {2.5f, 3.5f, -2.5f, -3.5f, 0.5f, -0.5f, 1.5f, 126.5f};
        int[] even = {2, 4, -2, -4, 0, 0, 2, 126};
        System.arraycopy(ties, 0, x, 1, ties.length);
        for (VecDotType type : new VecDotType[] {VecDotType.Q8_0, VecDotType.Q8_1, VecDotType.Q8_K}) {
            QuantizedActivations a = QuantizedActivations.prepare(type, x, 0, 256, null);
            assertEquals(-127, quant(a, 0), type + " max");
            for (int i = 0; i < ties.length; i++) assertEquals(even[i], quant(a, 1 + i), type + " rounds " + ties[i]);
            assertEquals(1f, a.d[0], type + " d");
        }
        // and so does the reference transcription (C's roundf, which the portable _ref code uses, would give 3 for 2.5)
        assertEquals(2, ReferenceVecDot.quantizeQ8x86(x, 256, false).qs[1]);
        assertEquals(2, ReferenceVecDot.quantizeQ8K(x, 256).qs[1]);
        // Q8_1's s is d * sum(qs) in f16: here 1 * (-127 + 2 + 4 - 2 - 4 + 0 + 0 + 2 + 126)
        assertEquals(1f, QuantizedActivations.prepare(VecDotType.Q8_1, x, 0, 256, null).s[0]);
    }

    /**
     * Q8_K's vector quantization takes the first of two elements of the largest magnitude (the
     * scalar scan's {@code >}), so a block whose largest values are -3 and +3 scales by the one
     * that comes first; zero blocks, NaNs and infinities give ggml's scalar numbers too.
     */
    @Test
    void q8KBlocksAsGgmlQuantizesThem() {
        int blocks = 6;
        float[] x = activations(256 * blocks, new Random(11));
        for (int i = 0; i < 256 * blocks; i++) x[i] = Math.max(-2.9f, Math.min(2.9f, x[i]));
        x[10] = -3f;
        x[200] = 3f;                                  // block 0: -3 first
        x[256 + 17] = 3f;
        x[256 + 18] = -3f;                            // block 1: +3 first, in the same vector
        Arrays.fill(x, 512, 768, 0f);                 // block 2: zeros
        x[768 + 5] = Float.NaN;                       // block 3: a NaN
        x[1024 + 40] = Float.POSITIVE_INFINITY;       // block 4: an infinity
        x[1280 + 255] = -2.95f;                       // block 5: the largest at the very end
        QuantizedActivations a = QuantizedActivations.prepare(VecDotType.Q8_K, x, 0, 256 * blocks, null);
        assertPreparedLikeReference(GgmlType.Q4_K, a, 0, ReferenceVecDot.quantizeQ8K(x, 256 * blocks), 256 * blocks, "edge blocks");
        // the first largest value becomes -127 (iscale = -127 / max), the other +127
        assertEquals(-127, a.qs[10], "block 0 scaled by its first largest, -3");
        assertEquals(127, a.qs[200], "block 0's other largest");
        assertEquals(-127, a.qs[256 + 17], "block 1 scaled by its first largest, +3");
        assertEquals(127, a.qs[256 + 18], "block 1's other largest");
    }

    /**
     * Float dots sum their lanes in one fixed order (upper halves onto lower halves, ggml's
     * {@code hsum_float_8} for 8 lanes), whatever the JIT does with {@code reduceLanes}, so
     * results do not change when code gets compiled.
     */
    @Test
    void floatLaneSumsAddHalvesInAFixedOrder() {
        for (var s : java.util.List.of(jdk.incubator.vector.FloatVector.SPECIES_128, jdk.incubator.vector.FloatVector.SPECIES_256,
                jdk.incubator.vector.FloatVector.SPECIES_512, Lanes.F)) {
            float[] v = new float[s.length()];
            for (int i = 0; i < v.length; i++) v[i] = (i % 2 == 0 ? 1e8f : 3f) * (i % 4 < 2 ? 1 : -1) + i;
            float[] halves = v.clone();
            for (int n = halves.length; n > 1; n /= 2) {
                for (int i = 0; i < n / 2; i++) halves[i] += halves[i + n / 2];
            }
            if (s.length() == 8) assertSameBits(((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7])), halves[0], "hsum_float_8");
            for (int rep = 0; rep < 20_000; rep++) {
                assertSameBits(halves[0], Vectors.sumLanes(s, jdk.incubator.vector.FloatVector.fromArray(s, v, 0)), s + " lane sum, call " + rep);
            }
        }
    }

    @Test
    void prepareReusesABufferOfTheRightTypeAndSize() {
        float[] x = activations(512, new Random(1));
        QuantizedActivations a = QuantizedActivations.prepare(VecDotType.Q8_0, x, 0, 512, null);
        assertSame(a, QuantizedActivations.prepare(VecDotType.Q8_0, x, 0, 256, a));
        assertEquals(256, a.n);
        QuantizedActivations b = QuantizedActivations.prepare(VecDotType.Q8_0, x, 0, 512, a);
        assertSame(a, b);
        QuantizedActivations c = QuantizedActivations.prepare(VecDotType.Q8_K, x, 0, 512, a);
        assertEquals(VecDotType.Q8_K, c.type);
        assertThrows(IllegalArgumentException.class, () -> QuantizedActivations.prepare(VecDotType.Q8_0, x, 0, 48, null));
        // a dot that reads the wrong type or past what was prepared fails instead of reading stale values
        MemorySegment w = MemorySegment.ofArray(new byte[34 * 16]);
        assertThrows(IllegalArgumentException.class, () -> TypeKernel.of(GgmlType.Q8_0).dot(w, 0, c, 0, 256));
        QuantizedActivations small = QuantizedActivations.prepare(VecDotType.Q8_0, x, 0, 256, null);
        assertThrows(IllegalArgumentException.class, () -> TypeKernel.of(GgmlType.Q8_0).dot(w, 0, small, 0, 512));
    }

    @ParameterizedTest
    @EnumSource(W.class)
    void dotEqualsGenericReference(W w) {
        GgmlType t = w.type;
        TypeKernel k = TypeKernel.of(t);
        Random r = new Random(11 + t.id());
        int bs = Math.max(t.blockSize(), 32);
        int[] blockCounts = {1, 2, 3, 8, 33};
        for (int rep = 0; rep < 10; rep++) {
            for (int blocks : blockCounts) {
                int n = blocks * bs;
                int wBlocks = n / t.blockSize();
                byte[] bytes = weights(t, wBlocks + 3 * bs / t.blockSize(), r);
                MemorySegment seg = MemorySegment.ofArray(bytes);
                // two activation vectors one after the other, as matMul prepares them; use the second
                float[] x = activations(2 * n, r);
                QuantizedActivations a = k.prepare(x, 0, 2 * n, null);
                float[] second = Arrays.copyOfRange(x, n, 2 * n);
                ReferenceVecDot.Q8 ref = ReferenceVecDot.prepare(t, second, n);
                assertPreparedLikeReference(t, a, n, ref, n, t + " second vector");
                // weights from element 0, and from the fourth (super-)block on
                for (long firstBlock : new long[] {0, 3}) {
                    long first = firstBlock * bs;
                    int from = (int) t.bytesFor(first);
                    byte[] rowBytes = Arrays.copyOfRange(bytes, from, from + (int) t.bytesFor(n));
                    float got = k.dot(seg, first, a, n, n);
                    assertDotLikeReference(t, got, ReferenceVecDot.dot(t, rowBytes, ref, n), t + " rep " + rep + ", " + blocks + " blocks from element " + first);
                }
            }
        }
    }

    /** Random blocks of a quantized type with every byte set to {@code fill} except the f16 scale fields, which stay finite. */
    static byte[] extremeWeights(GgmlType t, int blocks, int fill, Random r) {
        byte[] scales = weights(t, blocks, r);
        byte[] bytes = new byte[scales.length];
        Arrays.fill(bytes, (byte) fill);
        for (int b = 0; b < blocks; b++) {
            for (int f : QuantKernelTest.halfFields(t)) {
                bytes[b * t.blockBytes() + f] = scales[b * t.blockBytes() + f];
                bytes[b * t.blockBytes() + f + 1] = scales[b * t.blockBytes() + f + 1];
            }
        }
        return bytes;
    }

    /** Extreme activations: all values equal to the block's max (quants of 127 or -127) against weights at their extremes. */
    @ParameterizedTest
    @EnumSource(W.class)
    void dotOfExtremeQuantsMatchesReference(W w) {
        GgmlType t = w.type;
        TypeKernel k = TypeKernel.of(t);
        int n = 512;
        Random r = new Random(5);
        for (float sign : new float[] {1f, -1f}) {
            float[] x = new float[n];
            Arrays.fill(x, 3f * sign);
            for (int fill : new int[] {0x00, 0xFF, 0x80, 0x7F}) {
                byte[] bytes = t.blockSize() > 1 ? extremeWeights(t, n / t.blockSize(), fill, r) : weights(t, n / t.blockSize(), r);
                QuantizedActivations a = k.prepare(x, 0, n, null);
                ReferenceVecDot.Q8 ref = ReferenceVecDot.prepare(t, x, n);
                assertDotLikeReference(t, k.dot(MemorySegment.ofArray(bytes), 0, a, 0, n), ReferenceVecDot.dot(t, bytes, ref, n),
                        t + " fill 0x" + Integer.toHexString(fill) + " sign " + sign);
            }
        }
    }

    /**
     * {@link WeightMatrix}: matVec equals the reference dot per row, and matMul gives every vector
     * of a batch exactly the numbers matVec gives it alone (prefill and decode agree).
     */
    @ParameterizedTest
    @EnumSource(W.class)
    void weightMatrixMatVecAndMatMulAgreeBitForBit(W w) {
        GgmlType t = w.type;
        Random r = new Random(42 + t.id());
        int rows = 61;   // with 1024 columns, more than one of matMul's blocks of rows (24) per worker
        for (int cols : t.blockSize() == 1 ? new int[] {1024, 100} : new int[] {1024}) matVecAndMatMulAgree(t, rows, cols, r);
    }

    /**
     * The same agreement with every quant byte at an extreme (int8 -128 and 127 for Q8_0, the
     * largest nibbles for Q4_0/Q5_0) and activations that quantize to +-127: the largest integer
     * sums a block can have, which matMul's float lanes must still add exactly.
     */
    @ParameterizedTest
    @EnumSource(W.class)
    void matMulOfExtremeQuantsAgreesWithMatVec(W w) {
        GgmlType t = w.type;
        if (t.blockSize() == 1) return;
        Random r = new Random(7);
        int rows = 9, cols = 512;
        // 0x00: Q4_0's -8 by -127, 32 times, the largest block sum of its 16-bit tile (32512)
        for (int fill : new int[] {0x00, 0x80, 0x7F, 0xFF}) {
            byte[] bytes = extremeWeights(t, rows * cols / t.blockSize(), fill, r);
            float[] x = new float[5 * cols];
            for (int i = 0; i < x.length; i++) x[i] = (i / cols) % 2 == 0 ? 3f : -3f;
            matVecAndMatMulAgree(t, rows, cols, bytes, x);
        }
    }

    /**
     * Q4_0, Q5_0, Q8_0, F16, BF16 and the K-quants are multiplied from a heap copy ({@link RowGroups},
     * {@link HalfGroups}, {@link SuperBlockGroups}); one left in the mapping (too large for the heap) must give the same
     * numbers, bit for bit, and so must the kernel's own {@code dot} of one row.
     */
    @ParameterizedTest
    @EnumSource(value = W.class, names = {"Q8_0", "Q4_0", "Q5_0", "F16", "BF16", "Q4_K", "Q5_K", "Q6_K"})
    void heapCopyAndMappingGiveTheSameProducts(W w) {
        GgmlType t = w.type;
        Random r = new Random(3 + t.id());
        int rows = 37, cols = 1024, batch = 6;
        float[] src = QuantKernelTest.randomVector(rows * cols, r);
        float[] x = activations(batch * cols, r);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(t.bytesFor((long) rows * cols));
            TypeKernel.of(t).quantize(src, 0, rows * cols, seg, 0);
            WeightMatrix heap = new WeightMatrix("heap", t, seg, rows, cols);
            WeightMatrix mapped = new WeightMatrix("mapped", t, seg, rows, cols, false);
            assertEquals(true, heap.onHeap(), "a small " + t + " matrix is copied to the heap");
            assertEquals(false, mapped.onHeap());
            float[] a = new float[batch * rows], b = new float[batch * rows];
            heap.matMul(x, batch, a);
            mapped.matMul(x, batch, b);
            for (int i = 0; i < a.length; i++) assertSameBits(a[i], b[i], t + " matMul element " + i + ", heap vs mapping");
            float[] xb = Arrays.copyOf(x, cols);
            heap.matVec(xb, a);
            mapped.matVec(xb, b);
            for (int i = 0; i < rows; i++) assertSameBits(a[i], b[i], t + " matVec row " + i + ", heap vs mapping");
            TypeKernel kernel = TypeKernel.of(t);
            QuantizedActivations prepared = kernel.prepare(xb, 0, cols, null);
            for (int i = 0; i < rows; i++) {
                assertSameBits(a[i], kernel.dot(seg, (long) i * cols, prepared, 0, cols), t + " row " + i + ", matVec vs the kernel's dot");
            }
        }
    }

    /**
     * Q4_0's and Q4_K's 16-bit tiles take row groups in pairs (Q4_0's decode too) and a worker's
     * groups a block at a time: an odd number of groups (11, so a block's last pair is a single
     * group), rows not filling the last one, several blocks per worker and a batch that is not
     * whole tiles must still give matVec's numbers, from the heap copy and from the mapping.
     */
    @ParameterizedTest
    @EnumSource(value = W.class, names = {"Q4_0", "Q4_K"})
    void sixteenBitMatMulOverManyBlocksOfRowsAgreesWithMatVec(W w) {
        GgmlType t = w.type;
        Random r = new Random(11);
        int cols = 4096, rows = 10 * Lanes.L + 5, batch = 7;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = randomMatrix(arena, t, rows, cols, r);
            float[] x = activations(batch * cols, r);
            for (boolean onHeap : new boolean[] {true, false}) {
                WeightMatrix m = new WeightMatrix("test", t, seg, rows, cols, onHeap);
                float[] out = new float[batch * rows];
                m.matMul(x, batch, out);
                assertMatVecsNumbers(m, x, batch, out, rows, "heap " + onHeap);
            }
        }
    }

    /**
     * F16 decode takes a four-instruction widening when a matrix holds no infinity or NaN
     * ({@link HalfGroups}) and the exact one otherwise. Weights of every finite kind (zeros of
     * both signs, subnormals, the largest halves) and, in a second matrix, infinities and NaNs
     * too: matVec from the heap copy (pairs of groups, and an odd last group) gives the kernel's
     * own dot of each row bit for bit (NaN where it is NaN), as does the mapping and matMul.
     */
    @Test
    void f16WeightsOfEveryKindGiveTheKernelsDot() {
        Random r = new Random(16);
        int rows = 2 * Lanes.L + 3, cols = 96, batch = 5;
        for (boolean withSpecials : new boolean[] {false, true}) {
            byte[] bytes = new byte[2 * rows * cols];
            for (int i = 0; i < rows * cols; i++) {
                int h = r.nextInt(1 << 16);
                if (!withSpecials || r.nextInt(64) != 0) {
                    // finite: every exponent below 31, subnormals and zeros often
                    int e = r.nextInt(4) == 0 ? 0 : r.nextInt(31);
                    h = (h & 0x83ff) | (e << 10);
                }
                bytes[2 * i] = (byte) h;
                bytes[2 * i + 1] = (byte) (h >> 8);
            }
            float[] x = activations(batch * cols, r);
            try (Arena arena = Arena.ofShared()) {
                MemorySegment seg = arena.allocate(bytes.length);
                seg.copyFrom(MemorySegment.ofArray(bytes));
                WeightMatrix heap = new WeightMatrix("heap", GgmlType.F16, seg, rows, cols);
                WeightMatrix mapped = new WeightMatrix("mapped", GgmlType.F16, seg, rows, cols, false);
                assertTrue(heap.onHeap());
                TypeKernel kernel = TypeKernel.of(GgmlType.F16);
                float[] all = new float[batch * rows];
                heap.matMul(x, batch, all);
                for (int b = 0; b < batch; b++) {
                    float[] xb = Arrays.copyOfRange(x, b * cols, (b + 1) * cols);
                    float[] fromHeap = new float[rows], fromMapping = new float[rows];
                    heap.matVec(xb, fromHeap);
                    mapped.matVec(xb, fromMapping);
                    QuantizedActivations prepared = kernel.prepare(xb, 0, cols, null);
                    for (int row = 0; row < rows; row++) {
                        String what = (withSpecials ? "with infinities and NaNs" : "finite") + ", vector " + b + " row " + row;
                        float expected = kernel.dot(seg, (long) row * cols, prepared, 0, cols);
                        if (Float.isNaN(expected)) {
                            assertTrue(Float.isNaN(fromHeap[row]) && Float.isNaN(fromMapping[row]) && Float.isNaN(all[b * rows + row]), what + ": NaN");
                        } else {
                            assertSameBits(expected, fromHeap[row], what + ", heap matVec vs the kernel's dot");
                            assertSameBits(expected, fromMapping[row], what + ", mapping matVec vs the kernel's dot");
                            assertSameBits(expected, all[b * rows + row], what + ", matMul vs the kernel's dot");
                        }
                    }
                }
            }
        }
    }

    /**
     * F16 and BF16 prefill runs a tile of three groups, or of two on 16 vector registers (AVX2):
     * both, over an odd number of groups (the last tile short), several blocks of groups per
     * worker and a batch that is not whole tiles, from the heap copy and from the mapping, give
     * matVec's numbers bit for bit.
     */
    @ParameterizedTest
    @EnumSource(value = W.class, names = {"F16", "BF16"})
    void bothHalfTilesGiveMatVecsNumbers(W w) {
        GgmlType t = w.type;
        Random r = new Random(17);
        int cols = 2048, rows = 10 * Lanes.L + 5, batch = 7;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = randomMatrix(arena, t, rows, cols, r);
            float[] x = activations(batch * cols, r);
            WeightMatrix m = new WeightMatrix("test", t, seg, rows, cols);
            QuantizedActivations a = TypeKernel.of(t).prepare(x, 0, batch * cols, null);
            HalfGroups heap = HalfGroups.of(t == GgmlType.BF16, seg, rows, cols);
            int stride = RowGroups.groupsFor(rows) * Lanes.L;
            for (int tileGroups = 2; tileGroups <= 3; tileGroups++) {
                for (HalfGroups source : new HalfGroups[] {heap, null}) {
                    float[] out = new float[batch * stride];
                    TiledProduct.multiplyHalves(t == GgmlType.BF16, source, seg, rows, cols, a.values, batch, out, stride, tileGroups);
                    assertMatVecsNumbers(m, x, batch, out, stride, tileGroups + " groups, heap " + (source != null));
                }
            }
        }
    }

    /** A random {@code rows x cols} matrix of type {@code t} in a segment of {@code arena}. */
    private static MemorySegment randomMatrix(Arena arena, GgmlType t, int rows, int cols, Random r) {
        MemorySegment seg = arena.allocate(t.bytesFor((long) rows * cols));
        TypeKernel.of(t).quantize(QuantKernelTest.randomVector(rows * cols, r), 0, rows * cols, seg, 0);
        return seg;
    }

    /** Fails unless {@code out} ({@code batch} vectors, {@code stride} apart) holds {@code m.matVec}'s numbers for each vector of {@code x}, bit for bit. */
    private static void assertMatVecsNumbers(WeightMatrix m, float[] x, int batch, float[] out, int stride, String what) {
        int cols = m.cols(), rows = m.rows();
        float[] one = new float[rows];
        for (int b = 0; b < batch; b++) {
            m.matVec(Arrays.copyOfRange(x, b * cols, (b + 1) * cols), one);
            for (int row = 0; row < rows; row++) assertSameBits(one[row], out[b * stride + row], what + ", vector " + b + " row " + row);
        }
    }

    /**
     * Q8_0 and Q5_0 prefill runs a tile of three groups by four vectors, or of two by two on 16
     * vector registers (AVX2): both, over an odd number of groups, several blocks per worker and a
     * batch that is not whole tiles, from the heap copy and from the mapping, give matVec's numbers.
     */
    @ParameterizedTest
    @EnumSource(value = W.class, names = {"Q8_0", "Q5_0"})
    void bothInt8TilesGiveMatVecsNumbers(W w) {
        GgmlType t = w.type;
        Random r = new Random(19);
        int cols = 2048, rows = 10 * Lanes.L + 5, batch = 7;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = randomMatrix(arena, t, rows, cols, r);
            float[] x = activations(batch * cols, r);
            Int8BlockKernel kernel = (Int8BlockKernel) TypeKernel.of(t);
            WeightMatrix m = new WeightMatrix("test", t, seg, rows, cols);
            QuantizedActivations a = kernel.prepare(x, 0, batch * cols, null);
            RowGroups heap = RowGroups.of(kernel, seg, rows, cols);
            int stride = RowGroups.groupsFor(rows) * Lanes.L;
            for (boolean narrow : new boolean[] {false, true}) {
                for (RowGroups source : new RowGroups[] {heap, null}) {
                    float[] out = new float[batch * stride];
                    TiledProduct.multiply(kernel, source, seg, rows, cols, a, batch, out, stride, narrow);
                    assertMatVecsNumbers(m, x, batch, out, stride, "narrow " + narrow + ", heap " + (source != null));
                }
            }
        }
    }

    /**
     * Activations with an infinity or a NaN in a block: matMul's products are NaN wherever
     * matVec's are (the 16-bit quants of Q4_0 and Q4_K cannot hold a NaN) and equal elsewhere.
     */
    @ParameterizedTest
    @EnumSource(value = W.class, names = {"Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"})
    void matMulOfNonFiniteActivationsAgreesWithMatVec(W w) {
        GgmlType t = w.type;
        Random r = new Random(5);
        int rows = 3 * Lanes.L, cols = 256, batch = 5;
        float[] src = QuantKernelTest.randomVector(rows * cols, r);
        float[] x = activations(batch * cols, r);
        x[cols + 40] = Float.POSITIVE_INFINITY;
        x[2 * cols + 70] = Float.NaN;
        x[3 * cols + 3] = Float.NEGATIVE_INFINITY;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(t.bytesFor((long) rows * cols));
            TypeKernel.of(t).quantize(src, 0, rows * cols, seg, 0);
            WeightMatrix m = new WeightMatrix("test", t, seg, rows, cols);
            float[] out = new float[batch * rows], one = new float[rows];
            m.matMul(x, batch, out);
            for (int b = 0; b < batch; b++) {
                m.matVec(Arrays.copyOfRange(x, b * cols, (b + 1) * cols), one);
                for (int row = 0; row < rows; row++) {
                    float got = out[b * rows + row];
                    if (Float.isNaN(one[row])) assertTrue(Float.isNaN(got), t + " vector " + b + " row " + row + ": " + got + ", expected NaN");
                    else assertSameBits(one[row], got, t + " vector " + b + " row " + row);
                }
                // Q8_0 gives a non-finite block a NaN scale; Q8_K, as ggml's quantize_row_q8_K, skips a NaN in its
                // maximum, so the K-quants' products of that vector stay finite (and must still agree)
                if (b >= 1 && b <= 3 && expectedVecDotType(t) == VecDotType.Q8_0) {
                    assertTrue(Float.isNaN(one[0]), t + " vector " + b + " has a non-finite value, so NaN products");
                }
            }
        }
    }

    private static void matVecAndMatMulAgree(GgmlType t, int rows, int cols, Random r) {
        float[] src = QuantKernelTest.randomVector(rows * cols, r);
        byte[] bytes = new byte[(int) t.bytesFor((long) rows * cols)];
        TypeKernel.of(t).quantize(src, 0, rows * cols, MemorySegment.ofArray(bytes), 0);
        int batch = 6;   // a block of four vectors (matMul's blocked path) and two more
        matVecAndMatMulAgree(t, rows, cols, bytes, activations(batch * cols, r));
    }

    private static void matVecAndMatMulAgree(GgmlType t, int rows, int cols, byte[] all, float[] x) {
        int batch = x.length / cols;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(all.length);
            seg.copyFrom(MemorySegment.ofArray(all));
            WeightMatrix m = new WeightMatrix("test", t, seg, rows, cols);
            float[] out = new float[batch * rows];
            m.matMul(x, batch, out);
            int rowBytes = (int) t.bytesFor(cols);
            for (int b = 0; b < batch; b++) {
                float[] xb = Arrays.copyOfRange(x, b * cols, (b + 1) * cols);
                float[] one = new float[rows];
                m.matVec(xb, one);
                ReferenceVecDot.Q8 ref = ReferenceVecDot.prepare(t, xb, cols);
                for (int row = 0; row < rows; row++) {
                    assertSameBits(one[row], out[b * rows + row], t + " matMul vector " + b + " row " + row + " vs matVec");
                    byte[] wr = Arrays.copyOfRange(all, row * rowBytes, (row + 1) * rowBytes);
                    assertDotLikeReference(t, one[row], ReferenceVecDot.dot(t, wr, ref, cols), t + " matVec vector " + b + " row " + row);
                }
            }
        }
    }
}
