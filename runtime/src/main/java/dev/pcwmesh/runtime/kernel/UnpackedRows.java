package dev.pcwmesh.runtime.kernel;

import java.lang.foreign.MemorySegment;
import java.util.function.IntFunction;

/**
 * How {@link WeightMatrix#matMul} unpacks a weight type's rows once per batch, and the dot
 * products of an unpacked row with the batch's prepared vectors, four at a time. Every product
 * is the number the type's {@code dot} gives for that row and vector, bit for bit, so a batched
 * prefill and single-token steps agree.
 *
 * <ul>
 *   <li>F16 and BF16: rows widened to floats (exact), then the same FMAs in the same order as
 *       their {@code dot} ({@link F16Kernel#dotDecoded}).</li>
 *   <li>Q4_K, Q5_K, Q6_K: rows as quants times sub-block scales ({@link SuperBlockFloats}).</li>
 * </ul>
 * (Q4_0, Q5_0 and Q8_0 take their batches by row groups instead: {@link TiledProduct}.)
 */
abstract class UnpackedRows {
    /** Floats of unpacked side data (scales) for {@code n} values of a row. */
    abstract int sideData(int n);

    /** Stored values {@code [first, first+n)} into {@code w[at, at+n)}, their side data into {@code side} at its place for {@code at}. */
    abstract void unpack(MemorySegment data, long first, int n, float[] w, float[] side, int at);

    /** The unpacked row at {@code at} times the batch's vector at {@code xOffset}. */
    abstract float dot(float[] w, float[] side, int at, int xOffset, int n);

    /** The unpacked row at {@code at} times four of the batch's vectors, into {@code out[0..4)}. */
    abstract void dot4(float[] w, float[] side, int at, int off0, int off1, int off2, int off3, int n, float[] out);

    /** Whether {@link #dot2x4} does better than two {@link #dot4}s. */
    boolean twoRows() { return false; }

    /**
     * The unpacked rows at {@code at0} and {@code at1} times four of the batch's vectors, into
     * {@code out[0..4)} and {@code out[4..8)}; {@code lanes}: {@code 8 * Lanes.L} floats of scratch.
     */
    void dot2x4(float[] w, float[] side, int at0, int at1, int off0, int off1, int off2, int off3, int n, float[] out, float[] lanes) {
        throw new UnsupportedOperationException();
    }

    /**
     * The unpacking of {@code kernel}'s rows against prepared activations {@code a} (the batch:
     * {@code a.n} values), whose own unpacking, where they need one, goes into
     * {@code buffer.apply(a.n)}; null for types that take their {@code dot} per vector (F32,
     * Q4_1, Q5_1).
     */
    static UnpackedRows of(TypeKernel kernel, QuantizedActivations a, IntFunction<float[]> buffer) {
        return switch (kernel) {
            case SuperBlockKernel k -> new SuperBlocks(k, a, buffer.apply(a.n));
            default -> a.type == QuantizedActivations.VecDotType.F16 || a.type == QuantizedActivations.VecDotType.BF16
                    ? new Widened(kernel, a) : null;
        };
    }

    private static final class Widened extends UnpackedRows {
        private final TypeKernel kernel;
        private final float[] x;

        Widened(TypeKernel kernel, QuantizedActivations a) {
            this.kernel = kernel;
            this.x = a.values;
        }

        @Override int sideData(int n) { return 0; }

        @Override void unpack(MemorySegment data, long first, int n, float[] w, float[] side, int at) {
            kernel.dequantize(data, first, w, at, n);
        }

        @Override float dot(float[] w, float[] side, int at, int xOffset, int n) {
            return F16Kernel.dotDecoded(w, at, x, xOffset, n);
        }

        @Override void dot4(float[] w, float[] side, int at, int off0, int off1, int off2, int off3, int n, float[] out) {
            F16Kernel.dotDecoded4(w, at, x, off0, off1, off2, off3, n, out);
        }

        @Override boolean twoRows() { return F16Kernel.TWO_ROWS; }

        @Override void dot2x4(float[] w, float[] side, int at0, int at1, int off0, int off1, int off2, int off3, int n, float[] out, float[] lanes) {
            F16Kernel.dotDecoded2x4(w, at0, at1, x, off0, off1, off2, off3, n, out, lanes);
        }
    }

    private static final class SuperBlocks extends UnpackedRows {
        private final SuperBlockKernel kernel;
        private final QuantizedActivations a;
        private final float[] x;

        SuperBlocks(SuperBlockKernel kernel, QuantizedActivations a, float[] buffer) {
            this.kernel = kernel;
            this.a = a;
            SuperBlockFloats.unpackActivations(a, a.n, buffer);
            this.x = buffer;
        }

        @Override int sideData(int n) { return n / KQuants.QK_K * SuperBlockKernel.HEADER; }

        @Override void unpack(MemorySegment data, long first, int n, float[] w, float[] side, int at) {
            SuperBlockFloats.unpackRow(kernel, data, first, n, w, side, at);
        }

        @Override float dot(float[] w, float[] side, int at, int xOffset, int n) {
            return SuperBlockFloats.dot(w, side, at, x, a, xOffset, n);
        }

        @Override void dot4(float[] w, float[] side, int at, int off0, int off1, int off2, int off3, int n, float[] out) {
            SuperBlockFloats.dot4(w, side, at, x, a, off0, off1, off2, off3, n, out);
        }
    }
}
