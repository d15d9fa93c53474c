package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows x cols} stored in one tensor type (a GGUF tensor with
 * {@code shape = {cols, rows}}), multiplied by activation vectors on all cores.
 */
public final class WeightMatrix {
    private final String name;
    private final MemorySegment data;
    private final TypeKernel kernel;
    private final int rows;
    private final int cols;
    private static final ThreadLocal<float[]> rowBuffer = ThreadLocal.withInitial(() -> new float[0]);

    public WeightMatrix(String name, GgmlType type, MemorySegment data, int rows, int cols) {
        this.name = name;
        this.data = data;
        this.kernel = TypeKernel.of(type);
        this.rows = rows;
        this.cols = cols;
    }

    public static WeightMatrix of(GgufTensor t) {
        return new WeightMatrix(t.name(), t.type(), t.data(), t.rows(), t.rowLength());
    }

    public String name() { return name; }
    public int rows() { return rows; }
    public int cols() { return cols; }
    public GgmlType type() { return kernel.type(); }

    /** {@code out[r] = row(r) . x} for every row. */
    public void matVec(float[] x, float[] out) {
        Parallel.forRange(rows, Parallel.minChunk(cols), (from, to) -> {
            for (int r = from; r < to; r++) out[r] = kernel.dot(data, (long) r * cols, x, 0, cols);
        });
    }

    /**
     * A batch of mat-vecs: {@code x} holds {@code batch} vectors of {@code cols} values one after
     * the other, {@code out} receives {@code batch} vectors of {@code rows} values. Each weight row
     * is decoded once per batch into a per-thread buffer and applied to every vector from there,
     * so the decoding cost is paid once rather than once per token.
     */
    public void matMul(float[] x, int batch, float[] out) {
        if (batch == 1) {
            matVec(x, out);
            return;
        }
        Parallel.forRange(rows, Parallel.minChunk((long) cols * batch), (from, to) -> {
            float[] row = rowBuffer.get();
            if (row.length < cols) {
                row = new float[cols];
                rowBuffer.set(row);
            }
            for (int r = from; r < to; r++) {
                kernel.dequantize(data, (long) r * cols, row, 0, cols);
                for (int b = 0; b < batch; b++) out[b * rows + r] = Vectors.dot(row, 0, x, b * cols, cols);
            }
        });
    }

    /** Decodes row {@code r} into {@code dst[off..off+cols)} (embedding lookup). */
    public void row(int r, float[] dst, int off) {
        kernel.dequantize(data, (long) r * cols, dst, off, cols);
    }
}
