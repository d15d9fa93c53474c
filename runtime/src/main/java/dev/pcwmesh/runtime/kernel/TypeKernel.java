package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * What the runtime knows about one tensor type, in the manner of ggml's type traits: how to
 * decode values to floats, how to take a dot product of stored values with an activation vector,
 * and how to encode floats (used by the GGUF writer for random-weight models and tests).
 *
 * <p>Dot products follow ggml: the activations are first converted to the type's
 * {@link #vecDotType() vec_dot_type} ({@link #prepare}, once per mat-vec), then each block's
 * products are summed exactly as integers (for quantized types) and scaled by the block scales:
 * the 32-value types into float lanes added once per row, as ggml's x86 kernels do; the K-quants
 * per super-block in the order of ggml's {@code ggml_vec_dot_*_generic}.
 *
 * <p>Element indices count values, not bytes: element {@code e} of a tensor lives in block
 * {@code e / blockSize}. Ranges passed to these methods start on a block boundary and span whole
 * blocks (rows of GGUF tensors always do).
 */
public interface TypeKernel {

    GgmlType type();

    /** Decodes {@code n} values starting at element {@code first} of {@code data} into {@code dst[dstOffset..]}. */
    void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n);

    /** ggml's {@code vec_dot_type} of this type: the form its dot products take activations in. */
    QuantizedActivations.VecDotType vecDotType();

    /**
     * {@code x[off, off+n)} converted to {@link #vecDotType()}, written into {@code reuse} when it
     * fits (else into a new object, returned). {@code n} may cover several vectors of whole blocks.
     */
    default QuantizedActivations prepare(float[] x, int off, int n, QuantizedActivations reuse) {
        return QuantizedActivations.prepare(vecDotType(), x, off, n, reuse);
    }

    /**
     * The dot product of stored values {@code [first, first+n)} with prepared activations
     * {@code [aOffset, aOffset+n)}, computed as ggml's {@code ggml_vec_dot_<type>_<vec_dot_type>}.
     */
    float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n);

    /** Encodes {@code src[srcOffset, srcOffset+n)} as stored values starting at element {@code first} of {@code dst}. */
    void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first);

    /** The kernel for a type, or a {@link dev.pcwmesh.runtime.gguf.GgufException} naming the type. */
    static TypeKernel of(GgmlType type) {
        return TypeKernels.of(type);
    }
}
