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
    /** The stored values, in the file's layout (what a GPU backend uploads). */
    public MemorySegment data() { return data; }

    /**
     * The calling thread's prepared activations, one buffer per {@code vec_dot_type}, reused
     * from call to call. The calling thread writes it before handing rows to the workers, which
     * only read it, and it is not written again until they are done.
     */
    private static final ThreadLocal<QuantizedActivations[]> prepared =
            ThreadLocal.withInitial(() -> new QuantizedActivations[QuantizedActivations.VecDotType.values().length]);

    /** {@code x[0, n)} converted once to the weight type's {@code vec_dot_type}. */
    private QuantizedActivations prepare(float[] x, int n) {
        QuantizedActivations[] buffers = prepared.get();
        int i = kernel.vecDotType().ordinal();
        QuantizedActivations a = kernel.prepare(x, 0, n, buffers[i]);
        buffers[i] = a;
        return a;
    }

    /** {@code out[r] = row(r) . x} for every row, with {@code x} converted as ggml does ({@link TypeKernel#dot}). */
    public void matVec(float[] x, float[] out) {
        QuantizedActivations a = prepare(x, cols);
        Parallel.forRange(rows, Parallel.minChunk(cols), (from, to) -> {
            for (int r = from; r < to; r++) out[r] = kernel.dot(data, (long) r * cols, a, 0, cols);
        });
    }

    /**
     * A batch of mat-vecs: {@code x} holds {@code batch} vectors of {@code cols} values one after
     * the other, {@code out} receives {@code batch} vectors of {@code rows} values. All vectors are
     * converted once, up front; each result is then the same number {@link #matVec} gives, so a
     * batched prefill and single-token steps agree bit for bit. Where the type allows
     * ({@link UnpackedRows}), each worker unpacks a block of rows at a time and passes four
     * vectors at a time over it; other types take their {@code dot} per row and vector.
     */
    public void matMul(float[] x, int batch, float[] out) {
        if (batch == 1) {
            matVec(x, out);
            return;
        }
        QuantizedActivations a = prepare(x, batch * cols);
        UnpackedRows unpacked = UnpackedRows.of(kernel, a, WeightMatrix::unpackedActivations);
        if (unpacked == null) {
            Parallel.forRange(rows, Parallel.minChunk((long) cols * batch), (from, to) -> {
                for (int r = from; r < to; r++) {
                    for (int b = 0; b < batch; b++) out[b * rows + r] = kernel.dot(data, (long) r * cols, a, b * cols, cols);
                }
            });
            return;
        }
        int block = Math.max(1, ROW_BLOCK_BYTES / (Float.BYTES * cols));
        Parallel.forRange(rows, Parallel.minChunk((long) cols * batch), (from, to) -> {
            float[] w = rowBuffer(block * cols);
            float[] side = new float[unpacked.sideData(block * cols)];
            float[] four = new float[4];
            for (int r0 = from; r0 < to; r0 += block) {
                int n = Math.min(block, to - r0);
                for (int i = 0; i < n; i++) unpacked.unpack(data, (long) (r0 + i) * cols, cols, w, side, i * cols);
                int b = 0;
                for (; b + 4 <= batch; b += 4) {
                    for (int i = 0; i < n; i++) {
                        unpacked.dot4(w, side, i * cols, b * cols, (b + 1) * cols, (b + 2) * cols, (b + 3) * cols, cols, four);
                        for (int k = 0; k < 4; k++) out[(b + k) * rows + r0 + i] = four[k];
                    }
                }
                for (; b < batch; b++) {
                    for (int i = 0; i < n; i++) out[b * rows + r0 + i] = unpacked.dot(w, side, i * cols, b * cols, cols);
                }
            }
        });
    }

    /**
     * The most bytes of unpacked rows a worker holds at once. A batch of hundreds of vectors
     * (1-3 MB) does not fit a core's L2 cache, so dotting one row with every vector streamed the
     * batch from L3 for each row; a block of rows this size stays in L2 while four vectors at a
     * time pass over all of its rows, and the batch is streamed once per block.
     */
    private static final int ROW_BLOCK_BYTES = 96 * 1024;

    /** The calling thread's buffer for a batch's unpacked activations, at least {@code n} long (read by the workers). */
    private static final ThreadLocal<float[]> unpackedActivations = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] unpackedActivations(int n) {
        return atLeast(unpackedActivations, n);
    }

    private static final ThreadLocal<float[]> rowBuffer = ThreadLocal.withInitial(() -> new float[0]);

    /** This thread's buffer for a block of decoded rows, at least {@code n} long. */
    private static float[] rowBuffer(int n) {
        return atLeast(rowBuffer, n);
    }

    /** This thread's array in {@code buffers}, replaced by a larger one first if it is shorter than {@code n}. */
    static float[] atLeast(ThreadLocal<float[]> buffers, int n) {
        float[] b = buffers.get();
        if (b.length < n) {
            b = new float[n];
            buffers.set(b);
        }
        return b;
    }

    /** Decodes row {@code r} into {@code dst[off..off+cols)} (embedding lookup). */
    public void row(int r, float[] dst, int off) {
        kernel.dequantize(data, (long) r * cols, dst, off, cols);
    }
}
