package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The vector geometry of the integer dot products (quantized weights times quantized
 * activations), derived once from the preferred species so that no kernel is written per width.
 *
 * <p>A chunk is {@link #N} int8 values ({@link #B}); they are widened to shorts ({@link #S}, the
 * preferred shape capped at 256 bits), multiplied, and adjacent products are added into
 * {@code N/2} ints ({@link #I}), which is what x86's {@code pmaddwd} does. The cap keeps
 * {@code N <= 16}: 16 is the shortest run of quant bytes in any block (the 16 {@code qs} bytes of
 * Q4_0 .. Q5_1, a Q6_K scale group, a Q8_K {@code bsums} group), so a chunk never straddles one.
 * With AVX2 or AVX-512: N = 16; with 128-bit NEON/SSE: N = 8.
 *
 * <p>Every integer here is exact: an int8 times an int8 is at most 2^14 in magnitude, so it fits
 * a short, and the int sums stay far below 2^31.
 */
final class Int8Lanes {
    private Int8Lanes() {}

    static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
            VectorShape.forBitSize(Math.max(128, Math.min(256, Integer.highestOneBit(ShortVector.SPECIES_PREFERRED.vectorBitSize())))));
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = S.withLanes(int.class);
    /** Values per chunk: 8 or 16. */
    static final int N = B.length();

    /** {@link #N} bytes of {@code data} at {@code offset}. */
    static ByteVector load(MemorySegment data, long offset) {
        return ByteVector.fromMemorySegment(B, data, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /** {@link #N} bytes of {@code a} from index {@code i}. */
    static ByteVector load(byte[] a, int i) {
        return ByteVector.fromArray(B, a, i);
    }

    /**
     * {@code w[2k]*a[2k] + w[2k+1]*a[2k+1]} for {@code k < N/2}, exactly, as ints. The short
     * products are read back as ints: the low half of each sign-extended (shift left then
     * arithmetic shift right) plus the high half (arithmetic shift right).
     */
    static IntVector pairs(ByteVector w, ByteVector a) {
        ShortVector ws = (ShortVector) w.convertShape(VectorOperators.B2S, S, 0);
        ShortVector as = (ShortVector) a.convertShape(VectorOperators.B2S, S, 0);
        IntVector p = ws.mul(as).reinterpretAsInts();
        return p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
    }

    /**
     * {@code v >>> s} per byte for {@code 0 <= s <= 7}, correct in the low {@code 8 - s} bits of
     * each byte only (callers mask to those): a 16-bit shift, because byte shifts by a count that
     * is not a compile-time constant are not intrinsified on x86.
     */
    static ByteVector shr(ByteVector v, int s) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, s).reinterpretAsBytes();
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
