package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * What the runtime knows about one tensor type, in the manner of ggml's type traits: how to
 * decode values to floats, how to take a dot product of stored values with a float vector, and
 * how to encode floats (used by the GGUF writer for random-weight models and tests).
 *
 * <p>Element indices count values, not bytes: element {@code e} of a tensor lives in block
 * {@code e / blockSize}. Ranges passed to these methods start on a block boundary and span whole
 * blocks (rows of GGUF tensors always do).
 */
public interface TypeKernel {

    GgmlType type();

    /** Decodes {@code n} values starting at element {@code first} of {@code data} into {@code dst[dstOffset..]}. */
    void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n);

    /** The dot product of stored values {@code [first, first+n)} with {@code x[xOffset, xOffset+n)}. */
    float dot(MemorySegment data, long first, float[] x, int xOffset, int n);

    /** Encodes {@code src[srcOffset, srcOffset+n)} as stored values starting at element {@code first} of {@code dst}. */
    void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first);

    /** The kernel for a type, or a {@link dev.pcwmesh.runtime.gguf.GgufException} naming the type. */
    static TypeKernel of(GgmlType type) {
        return TypeKernels.of(type);
    }
}
