package dev.pcwmesh.runtime.kernel;

import java.lang.foreign.MemorySegment;
import java.util.function.IntFunction;

/**
 * How {@link WeightMatrix#matMul} unpacks a weight type's rows once per batch, and the dot
 * products of an unpacked row with the batch's prepared vectors, four at a time. Every product
 * is the number the type's {@code dot} gives for that row and vector, bit for bit, so a batched
 * prefill and single-token steps agree.
 *
 * <p>The K-quants Q4_K, Q5_K and Q6_K: rows as quants times sub-block scales
 * ({@link SuperBlockFloats}). (Q4_0, Q5_0, Q8_0, F16 and BF16 take their batches by row groups
 * instead: {@link TiledProduct}.)
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

    /**
     * The unpacking of {@code kernel}'s rows against prepared activations {@code a} (the batch:
     * {@code a.n} values), whose own unpacking, where they need one, goes into
     * {@code buffer.apply(a.n)}; null for types that take their {@code dot} per vector (F32,
     * Q4_1, Q5_1).
     */
    static UnpackedRows of(TypeKernel kernel, QuantizedActivations a, IntFunction<float[]> buffer) {
        return kernel instanceof SuperBlockKernel k ? new SuperBlocks(k, a, buffer.apply(a.n)) : null;
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
