package dev.pcwmesh.runtime.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, element type, shape and bytes.
 *
 * @param name  the tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param type  element type
 * @param shape dimensions in GGML order: {@code shape[0]} is the fastest-varying (the row length);
 *              a weight matrix of {@code rows x cols} has {@code shape = {cols, rows}}
 * @param fileOffset absolute offset of the first byte in the file
 * @param data  the tensor's bytes (a slice of the mapped file, or of memory the caller owns)
 */
public record GgufTensor(String name, GgmlType type, long[] shape, long fileOffset, MemorySegment data) {

    /** Total number of elements. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Elements per row ({@code shape[0]}). */
    public int rowLength() { return Math.toIntExact(shape[0]); }

    /** Number of rows: the product of all dimensions but the first. */
    public int rows() { return Math.toIntExact(elementCount() / shape[0]); }

    /** Bytes the data takes. */
    public long byteSize() { return type.bytesFor(elementCount()); }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
