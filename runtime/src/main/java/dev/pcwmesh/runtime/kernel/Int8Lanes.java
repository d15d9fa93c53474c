package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The vector geometry of the integer dot products (quantized weights times quantized
 * activations) of Q4_1, Q5_1 and the K-quants, derived once from the preferred species so that
 * no kernel is written per width. (Q4_0, Q5_0 and Q8_0 take theirs in float lanes:
 * {@link Int8BlockKernel}.)
 *
 * <p>A chunk is {@link #N} int8 weight quants ({@link #B}); they are widened to shorts
 * ({@link #S}, the preferred shape capped at 256 bits) and multiplied by the activation quants
 * (widened once, when prepared); two chunks' products are added as shorts, and adjacent shorts
 * into {@code N/2} ints ({@link #I}), which is what x86's {@code pmaddubsw}/{@code pmaddwd} pair
 * does. The cap keeps {@code N <= 16}: 16 is the shortest run of quant bytes in any block (the 16
 * {@code qs} bytes of Q4_0 .. Q5_1, a Q6_K scale group, a Q8_K {@code bsums} group), so a chunk
 * never straddles one. With AVX2 or AVX-512: N = 16; with 128-bit NEON/SSE: N = 8.
 *
 * <p>Every integer here is exact: see {@link #mul} for the shorts; the int sums stay far below
 * 2^31. The activation quants are within [-127, 127] (ggml's quantizers only reach -128 on
 * non-finite input).
 */
final class Int8Lanes {
    private Int8Lanes() {}

    static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
            VectorShape.forBitSize(Math.max(128, Math.min(256, Integer.highestOneBit(ShortVector.SPECIES_PREFERRED.vectorBitSize())))));
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = S.withLanes(int.class);
    /** Values per chunk: 8 or 16. */
    static final int N = B.length();
    /** Floats of the same shape as {@link #I}: the per-lane running sums of {@link #accumulate}. */
    static final VectorSpecies<Float> FI = I.withLanes(float.class);

    /** {@link #N} bytes of {@code data} at {@code offset}. */
    static ByteVector load(MemorySegment data, long offset) {
        return ByteVector.fromMemorySegment(B, data, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * {@code w[k] * a[i+k]} for {@code k < N} as shorts: the weight quants sign-extended, the
     * activations already widened ({@link QuantizedActivations#qs16}). With {@code |w| <= 128}
     * and {@code |a| <= 127} a product is at most 16256 in magnitude, so two of them still add
     * exactly in a short (32512 < 2^15), and no more than two may.
     */
    static ShortVector mul(ByteVector w, short[] a, int i) {
        return ((ShortVector) w.convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, a, i));
    }

    /**
     * {@code p[2k] + p[2k+1]} for {@code k < N/2}, exactly, as ints (x86's {@code pmaddwd} with
     * ones): each int lane of {@code p} read back is its low short sign-extended (shift left,
     * arithmetic shift right) plus its high short (arithmetic shift right).
     */
    static IntVector pairs(ShortVector p) {
        IntVector v = p.reinterpretAsInts();
        return v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16));
    }

    /**
     * {@code acc + sums * scale} per lane, as ggml's x86 kernels end a block
     * ({@code _mm256_fmadd_ps(d, q, acc)}): a block's integer sums are scaled into float lanes
     * that run over the whole row, and the lanes are added once at its end ({@link
     * Vectors#sumLanes}) rather than once per block. The ints convert exactly (each is below
     * 2^24 in magnitude). The conversion names its species ({@code convertShape} to {@link #FI})
     * rather than leaving it to {@code convert}, so the sum's vector class is a constant wherever
     * this is inlined. The caller keeps {@code acc} in a register only if nothing it is passed to
     * stays a call: see {@link Vectors#sumLanes}.
     */
    static FloatVector accumulate(FloatVector acc, IntVector sums, float scale) {
        return ((FloatVector) sums.convertShape(VectorOperators.I2F, FI, 0)).fma(FloatVector.broadcast(FI, scale), acc);
    }

    /**
     * {@code v >>> s} per byte for {@code 0 <= s <= 7}, correct in the low {@code 8 - s} bits of
     * each byte only (callers mask to those): a 16-bit shift, because byte shifts by a count that
     * is not a compile-time constant are not intrinsified on x86.
     */
    static ByteVector shr(ByteVector v, int s) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, s).reinterpretAsBytes();
    }

    /**
     * {@code v >>> 4} per byte as a 16-bit shift and a mask: x86 has no byte shift, and C2's
     * emulation of a constant one (widen, shift, pack) costs several instructions.
     */
    static ByteVector highNibbles(ByteVector v) {
        return shr(v, 4).and((byte) 0x0F);
    }

    /** {@code v << s} per byte, for bytes whose top {@code s} bits are clear (then no bit crosses a byte). */
    static ByteVector shl(ByteVector v, int s) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHL, s).reinterpretAsBytes();
    }

    /** {@code 0x10} in each lane of {@code v} where {@code v & bit} is not zero, else 0. */
    static ByteVector bit4(ByteVector v, byte bit) {
        return ByteVector.zero(B).blend((byte) 0x10, v.and(bit).compare(VectorOperators.NE, 0));
    }

    /** {@code QH_BYTE[e] = e / 8}: which byte of a 32-bit {@code qh} holds the high bit of element {@code e}. */
    private static final byte[] QH_BYTE = new byte[32];
    /** {@code QH_BIT[e] = 1 << (e % 8)}: that bit within its byte. */
    private static final byte[] QH_BIT = new byte[32];
    static {
        for (int e = 0; e < 32; e++) {
            QH_BYTE[e] = (byte) (e / 8);
            QH_BIT[e] = (byte) (1 << (e % 8));
        }
    }

    /**
     * For elements {@code [e0, e0+N)} of a Q5_0/Q5_1 block ({@code e0} a multiple of N, below
     * 32), {@code 0x10} in each lane whose bit {@code e} of the little-endian uint32 {@code qh}
     * is set, else 0. {@code qhBytes} is an {@link #N}-byte load that starts at {@code qh}.
     */
    static ByteVector highBits(ByteVector qhBytes, int e0) {
        ByteVector perLane = ByteVector.fromArray(B, QH_BYTE, e0).selectFrom(qhBytes);
        return ByteVector.zero(B).blend((byte) 0x10, perLane.and(ByteVector.fromArray(B, QH_BIT, e0)).compare(VectorOperators.NE, 0));
    }
}
