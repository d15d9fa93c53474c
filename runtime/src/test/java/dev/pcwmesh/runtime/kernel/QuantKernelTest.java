package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.gguf.GgufException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The F16/BF16 and block-quantized kernels against {@link ReferenceDequant} on synthetic data. */
class QuantKernelTest {

    /** Every type this file covers: the new kernels. */
    enum T {
        F16(GgmlType.F16), BF16(GgmlType.BF16), Q8_0(GgmlType.Q8_0), Q4_0(GgmlType.Q4_0), Q4_1(GgmlType.Q4_1),
        Q5_0(GgmlType.Q5_0), Q5_1(GgmlType.Q5_1), Q4_K(GgmlType.Q4_K), Q5_K(GgmlType.Q5_K), Q6_K(GgmlType.Q6_K);
        final GgmlType type;
        T(GgmlType type) { this.type = type; }
    }

    /** Offsets of the f16 scale fields inside one block (made finite in random blocks). */
    static int[] halfFields(GgmlType t) {
        return switch (t) {
            case Q8_0, Q4_0, Q5_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
    }

    /** A random finite half (any exponent but 31: subnormals and large values included). */
    static short finiteHalf(Random r) {
        int h = r.nextInt(0x10000);
        if ((h & 0x7c00) == 0x7c00) h &= ~0x4000;
        return (short) h;
    }

    /** Random bytes for {@code blocks} blocks: random payload, finite f16 scales; for F16/BF16 finite moderate values. */
    static byte[] randomBlocks(GgmlType t, int blocks, Random r) {
        byte[] b = new byte[(int) t.bytesFor((long) blocks * t.blockSize())];
        r.nextBytes(b);
        if (t == GgmlType.F16) {
            for (int i = 0; i < blocks; i++) putShort(b, 2 * i, finiteHalf(r));
        } else if (t == GgmlType.BF16) {
            for (int i = 0; i < blocks; i++) putShort(b, 2 * i, BF16Kernel.fromFloat((float) r.nextGaussian() * 3));
        } else {
            for (int i = 0; i < blocks; i++) {
                for (int f : halfFields(t)) putShort(b, i * t.blockBytes() + f, finiteHalf(r));
            }
        }
        return b;
    }

    static void putShort(byte[] b, int i, short v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >> 8);
    }

    static float[] randomVector(int n, Random r) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian());
        return x;
    }

    static void assertBitsEqual(float[] expected, float[] actual, int actualOffset, String what) {
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToRawIntBits(expected[i]), a = Float.floatToRawIntBits(actual[actualOffset + i]);
            if (e != a) fail(what + ": element " + i + " is " + actual[actualOffset + i] + " (0x" + Integer.toHexString(a)
                    + "), reference " + expected[i] + " (0x" + Integer.toHexString(e) + ")");
        }
    }

    @ParameterizedTest
    @EnumSource(T.class)
    void dequantizeMatchesReferenceBitForBit(T tt) {
        GgmlType t = tt.type;
        TypeKernel k = TypeKernel.of(t);
        Random r = new Random(1234 + t.id());
        int blocks = t.blockSize() == 1 ? 1031 : 41;
        int n = blocks * t.blockSize();
        byte[] bytes = randomBlocks(t, blocks, r);
        float[] ref = ReferenceDequant.dequantize(t, bytes, n);
        float[] out = new float[n + 5];
        k.dequantize(MemorySegment.ofArray(bytes), 0, out, 5, n);
        assertBitsEqual(ref, out, 5, t + " dequantize");
        // a range that starts inside the data: blocks [3, 3+7)
        int bs = t.blockSize();
        int first = 3 * bs, len = 7 * bs;
        float[] part = new float[len];
        k.dequantize(MemorySegment.ofArray(bytes), first, part, 0, len);
        float[] refPart = java.util.Arrays.copyOfRange(ref, first, first + len);
        assertBitsEqual(refPart, part, 0, t + " dequantize from element " + first);
    }

    /** Round trip bounds, per type, on Gaussian data (with an outlier per row) times a scale. */
    @ParameterizedTest
    @EnumSource(T.class)
    void quantizeRoundTripErrorIsSmall(T tt) {
        GgmlType t = tt.type;
        TypeKernel k = TypeKernel.of(t);
        Random r = new Random(7 + t.id());
        for (float scale : new float[] {1f, 0.01f, 37f}) {
            int n = 4 * 256;
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * scale;
            x[100] = 6 * scale;
            x[700] = -5 * scale;
            MemorySegment seg = MemorySegment.ofArray(new byte[(int) t.bytesFor(n)]);
            k.quantize(x, 0, n, seg, 0);
            float[] y = new float[n];
            k.dequantize(seg, 0, y, 0, n);
            // the stored blocks decode the same way in the reference
            assertBitsEqual(ReferenceDequant.dequantize(t, seg.toArray(ValueLayout.JAVA_BYTE), n), y, 0, t + " quantized data");
            double se = 0, sx = 0;
            int bs = Math.max(t.blockSize(), 32);
            for (int b0 = 0; b0 < n; b0 += bs) {
                float amax = 0, min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
                for (int i = b0; i < b0 + bs; i++) {
                    amax = Math.max(amax, Math.abs(x[i]));
                    min = Math.min(min, x[i]);
                    max = Math.max(max, x[i]);
                }
                for (int i = b0; i < b0 + bs; i++) {
                    float err = Math.abs(y[i] - x[i]);
                    se += (double) err * err;
                    sx += (double) x[i] * x[i];
                    double bound = switch (t) {
                        case F16 -> Math.max(Math.abs(x[i]) * 0x1p-11, 0x1p-25); // half subnormals: absolute
                        case BF16 -> Math.abs(x[i]) * 0x1p-8;
                        case Q8_0 -> amax * (0.5 / 127 + 0.002);
                        case Q4_0 -> amax * (1.0 / 8 + 0.002);          // the value opposite the max clamps to 7
                        case Q5_0 -> amax * (1.0 / 16 + 0.002);
                        case Q4_1 -> (max - min) * (0.5 / 15 + 0.002) + amax * 0.002;
                        case Q5_1 -> (max - min) * (0.5 / 31 + 0.002) + amax * 0.002;
                        case Q4_K -> (max - min) * 0.12;
                        case Q5_K -> (max - min) * 0.06;
                        case Q6_K -> amax * 0.04;
                        default -> throw new AssertionError();
                    };
                    if (!(err <= bound)) fail(t + " scale " + scale + ": element " + i + " = " + x[i] + " came back " + y[i] + " (bound " + bound + ")");
                }
            }
            double relRms = Math.sqrt(se / sx);
            double rmsBound = switch (t) {
                case F16 -> 3e-4;
                case BF16 -> 3e-3;
                case Q8_0 -> 0.008;
                case Q6_K -> 0.025;
                case Q5_0, Q5_1, Q5_K -> 0.05;
                case Q4_0, Q4_1, Q4_K -> 0.1;
                default -> throw new AssertionError();
            };
            assertTrue(relRms < rmsBound, t + " scale " + scale + ": relative RMS error " + relRms + " not below " + rmsBound);
        }
    }

    @ParameterizedTest
    @EnumSource(T.class)
    void quantizeOfZerosIsZeros(T tt) {
        GgmlType t = tt.type;
        TypeKernel k = TypeKernel.of(t);
        int n = 512;
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) t.bytesFor(n)]);
        seg.fill((byte) 0x5a);
        k.quantize(new float[n], 0, n, seg, 0);
        float[] y = new float[n];
        java.util.Arrays.fill(y, 1f);
        k.dequantize(seg, 0, y, 0, n);
        for (int i = 0; i < n; i++) assertEquals(0f, Math.abs(y[i]), t + " element " + i);
    }

    /**
     * The half-precision lanes the row groups widen: every one of the 65,536 f16 bit patterns
     * (zeros, subnormals, infinities) gives {@link Float#float16ToFloat}'s float bit for bit (NaNs
     * stay NaNs), every finite one through {@link F16Kernel#widenFinite} too, and every bf16 pattern its shifted bits, interpreted and after C2 has compiled
     * the lanes.
     */
    @Test
    void halfPrecisionLanesWidenEveryBitPattern() {
        int lanes = BF16Kernel.S.length();
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        float[] f16 = new float[lanes], finite = new float[lanes], bf16 = new float[lanes];
        for (int rep = 0; rep < 200; rep++) {
            for (int at = 0; at < all.length; at += lanes) {
                jdk.incubator.vector.ShortVector h = jdk.incubator.vector.ShortVector.fromArray(BF16Kernel.S, all, at);
                F16Kernel.widen(h).intoArray(f16, 0);
                F16Kernel.widenFinite(h).intoArray(finite, 0);
                BF16Kernel.widen(h, 0).intoArray(bf16, 0);
                if (rep % 50 != 0) continue;
                for (int l = 0; l < lanes; l++) {
                    short bits = all[at + l];
                    float expected = Float.float16ToFloat(bits);
                    if (Float.isNaN(expected)) {
                        // float16ToFloat keeps a signalling NaN's bits where its x86 intrinsic quiets them: only NaN-ness is defined
                        assertTrue(Float.isNaN(f16[l]), "f16 NaN 0x" + Integer.toHexString(bits & 0xFFFF));
                    } else {
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(f16[l]), "f16 bits 0x" + Integer.toHexString(bits & 0xFFFF));
                    }
                    if (!F16Kernel.isSpecial(bits)) {
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(finite[l]), "finite f16 bits 0x" + Integer.toHexString(bits & 0xFFFF));
                    }
                    assertEquals((bits & 0xFFFF) << 16, Float.floatToRawIntBits(bf16[l]), "bf16 bits 0x" + Integer.toHexString(bits & 0xFFFF));
                }
            }
        }
    }

    @Test
    void f16DecodesEveryBitPatternExactly() {
        byte[] b = new byte[2 * 65536];
        for (int h = 0; h < 65536; h++) putShort(b, 2 * h, (short) h);
        float[] out = new float[65536];
        TypeKernel.of(GgmlType.F16).dequantize(MemorySegment.ofArray(b), 0, out, 0, 65536);
        for (int h = 0; h < 65536; h++) {
            float e = Float.float16ToFloat((short) h);
            if (Float.floatToRawIntBits(e) != Float.floatToRawIntBits(out[h])) {
                fail("half 0x" + Integer.toHexString(h) + " decoded to 0x" + Integer.toHexString(Float.floatToRawIntBits(out[h]))
                        + ", expected 0x" + Integer.toHexString(Float.floatToRawIntBits(e)));
            }
        }
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaNsQuiet() {
        assertEquals((short) 0x3f80, BF16Kernel.fromFloat(1.0f));
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (down)
        assertEquals((short) 0x3f80, BF16Kernel.fromFloat(Float.intBitsToFloat(0x3f808000)));
        // 1 + 3*2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even (up)
        assertEquals((short) 0x3f82, BF16Kernel.fromFloat(Float.intBitsToFloat(0x3f818000)));
        assertEquals((short) 0x3f81, BF16Kernel.fromFloat(Float.intBitsToFloat(0x3f808001)));
        short nan = BF16Kernel.fromFloat(Float.intBitsToFloat(0x7f800001)); // signalling NaN with payload in the low bits
        assertTrue(Float.isNaN(BF16Kernel.toFloat(nan)), "NaN stays NaN");
        assertEquals((short) 0x7f80, BF16Kernel.fromFloat(Float.POSITIVE_INFINITY));
    }

    @Test
    void unsupportedTypeIsNamed() {
        GgufException e = assertThrows(GgufException.class, () -> TypeKernel.of(GgmlType.Q2_K));
        assertTrue(e.getMessage().contains("Q2_K"), e.getMessage());
    }

    @Test
    void everySupportedTypeHasAKernel() {
        for (GgmlType t : GgmlType.values()) {
            if (t.supported()) assertEquals(t, TypeKernel.of(t).type());
        }
    }

    @Test
    void weightMatrixRowDecodesLikeReference() {
        Random r = new Random(42);
        int rows = 37, cols = 512;
        GgmlType t = GgmlType.Q4_K;
        float[] src = randomVector(rows * cols, r);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(t.bytesFor((long) rows * cols));
            TypeKernel.of(t).quantize(src, 0, rows * cols, seg, 0);
            float[] w = ReferenceDequant.dequantize(t, seg.toArray(ValueLayout.JAVA_BYTE), rows * cols);
            WeightMatrix m = new WeightMatrix("test", t, seg, rows, cols);
            float[] row5 = new float[cols];
            m.row(5, row5, 0);
            assertBitsEqual(java.util.Arrays.copyOfRange(w, 5 * cols, 6 * cols), row5, 0, "row 5");
        }
    }
}
