package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The vector geometry shared by the block kernels, derived once from the preferred species so
 * that no kernel is written per vector width.
 *
 * <p>{@link #F} is the preferred float species capped at 16 lanes (512 bits): quantization
 * blocks hold 32 values in two halves of 16, so a lane count that divides 16 lets every chunk
 * stay inside one half (and one scale group of Q6_K). {@link #B} is the byte species that is
 * loaded at a time: {@code max(8, L)} bytes, the smallest byte vector that covers one float
 * vector's worth of quants; it is split into {@link #PARTS} float vectors of {@link #L} lanes by
 * {@code convertShape(B2F, F, part)}. With 256-bit AVX2: L = 8, BL = 8, PARTS = 1; with AVX-512:
 * L = 16, BL = 16, PARTS = 1; with 128-bit NEON/SSE: L = 4, BL = 8, PARTS = 2.
 */
final class Lanes {
    private Lanes() {}

    static final VectorSpecies<Float> F = capped();
    /** Float lanes per vector: a power of two from 2 to 16. */
    static final int L = F.length();
    /**
     * Double lanes of {@link #F}'s shape (128 bits at least), and float vectors of as many lanes
     * (half its bits), so that one float load widens to one double vector: for exponentials
     * worked in double ({@link SwiGlu}, {@link Softmax}). Not the preferred double species: on a
     * machine whose vectors are not a power of two of bits (SVE allows 384), half of it would be
     * no vector shape at all.
     */
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, VectorShape.forBitSize(Math.max(128, F.vectorBitSize())));
    static final VectorSpecies<Float> FD = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    /** Bytes per byte load: 8 or 16, so it divides the 16- and 32-byte quant runs of every block. */
    static final int BL = B.length();
    /** Float vectors per byte vector. */
    static final int PARTS = BL / L;
    /** Short lanes as many as {@link #F}'s float lanes (half its bits): a float vector's worth of 16-bit quants. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));

    /**
     * Whether the vector registers are 16 rather than 32: x86 below AVX-512 (AVX2, or AVX-512
     * held to 256 bits by {@code -XX:UseAVX=2}) has 16; AVX-512 and ARM (NEON, SVE) have 32. The
     * register tiles are sized for 32.
     */
    static final boolean SIXTEEN_REGISTERS = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64", "x86" -> F.vectorBitSize() < 512;
        default -> false;
    };

    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static VectorSpecies<Float> capped() {
        int bits = Math.min(512, FloatVector.SPECIES_PREFERRED.vectorBitSize());
        bits = Math.max(64, Integer.highestOneBit(bits));
        VectorSpecies<Float> s = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        if (16 % s.length() != 0) throw new IllegalStateException("unexpected float species " + s);
        return s;
    }

    /**
     * How far ahead of its vector loads a decode product touches its stream of weights: one
     * scalar load per cache line it consumes, at this many bytes ahead. Java has no prefetch
     * instruction; the touch starts the line's miss early, where the hardware prefetcher alone
     * left a core waiting: a one-thread F16 product from memory went from 17-20 to 22-27 GB/s.
     */
    static final int PREFETCH_BYTES = 1024;

    /**
     * Keeps a loop's touches ({@link #PREFETCH_BYTES}): their exclusive or, of 8- or 16-bit
     * values, cannot be {@code Integer.MIN_VALUE}, but C2 cannot know that and so keeps every load.
     */
    static void keep(int touched) {
        if (touched == Integer.MIN_VALUE) throw new AssertionError("touches came to " + touched);
    }

    /** Loads {@link #BL} bytes at {@code offset}. */
    static ByteVector bytes(MemorySegment data, long offset) {
        return ByteVector.fromMemorySegment(B, data, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /** Loads {@link #BL} bytes of {@code a} at {@code at}. */
    static ByteVector bytes(byte[] a, int at) {
        return ByteVector.fromArray(B, a, at);
    }

    /** Lanes {@code [part*L, part*L+L)} of {@code v} as shorts (sign-extended bytes). */
    static ShortVector shorts(ByteVector v, int part) {
        return (ShortVector) v.convertShape(VectorOperators.B2S, S, part);
    }

    /** Lanes {@code [part*L, part*L+L)} of {@code v} as floats (sign-extended bytes). */
    static FloatVector floats(ByteVector v, int part) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, part);
    }

    /** An IEEE half at {@code offset} as a float (exact). */
    static float half(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(LE16, offset));
    }

    static void putHalf(MemorySegment data, long offset, float v) {
        data.set(LE16, offset, Float.floatToFloat16(v));
    }

    /** ggml's {@code nearest_int}: round half to even (as {@code x + 1.5*2^23} does in float). */
    static int nearestInt(float x) {
        return (int) Math.rint(x);
    }

    /** C's {@code roundf}: round half away from zero. */
    static float roundf(float x) {
        float a = Math.abs(x);
        float t = (float) Math.floor(a);
        if (a - t >= 0.5f) t += 1f;
        return Math.copySign(t, x);
    }

    static void checkBlocks(long first, int n, int blockSize) {
        if (first % blockSize != 0 || n % blockSize != 0) {
            throw new IllegalArgumentException("range [" + first + ", " + (first + n) + ") is not whole blocks of " + blockSize);
        }
    }

    /** {@code QH_BYTE[e] = e / 8}: which byte of a 32-bit {@code qh} holds the high bit of element {@code e}. */
    private static final byte[] QH_BYTE = new byte[32 + 16];
    /** {@code QH_BIT[e] = 1 << (e % 8)}: that bit within its byte. */
    private static final byte[] QH_BIT = new byte[32 + 16];
    static {
        for (int e = 0; e < QH_BYTE.length; e++) {
            QH_BYTE[e] = (byte) (e / 8);
            QH_BIT[e] = (byte) (1 << (e % 8));
        }
    }

    /**
     * For elements {@code [e0, e0+BL)} of a Q5_0/Q5_1 block ({@code e0} a multiple of BL, below
     * 32), {@code 0x10} in each lane whose bit {@code e} of the little-endian uint32 {@code qh} is
     * set, else 0. {@code qhBytes} is a {@link #BL}-byte load that starts at {@code qh} (its first
     * four lanes are {@code qh}'s bytes; the rest are ignored).
     */
    static ByteVector highBits(ByteVector qhBytes, int e0) {
        ByteVector perLane = ByteVector.fromArray(B, QH_BYTE, e0).selectFrom(qhBytes);
        return ByteVector.zero(B).blend((byte) 0x10, perLane.and(ByteVector.fromArray(B, QH_BIT, e0)).compare(VectorOperators.NE, 0));
    }

    /**
     * {@code v >>> s} per byte for {@code 0 <= s <= 7}, correct in the low {@code 8 - s} bits of
     * each byte only (callers mask to those): done as a 16-bit shift, because byte shifts by a
     * count that is not a compile-time constant are not intrinsified on x86 and box the vector.
     */
    static ByteVector shr(ByteVector v, int s) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, s).reinterpretAsBytes();
    }
}
