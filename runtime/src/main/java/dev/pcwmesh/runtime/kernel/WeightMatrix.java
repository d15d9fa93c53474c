package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows x cols} stored in one tensor type (a GGUF tensor with
 * {@code shape = {cols, rows}}), multiplied by activation vectors on all cores.
 *
 * <p>Q4_0, Q5_0, Q8_0, F16, BF16, Q4_K, Q5_K and Q6_K matrices are repacked onto the heap when
 * made, in groups of rows that a product runs down one row per lane ({@link RowGroups}, {@link
 * HalfGroups}, {@link SuperBlockGroups}), as long as
 * the copy leaves a quarter of the maximum heap free; a matrix that does not fit is read from
 * the mapping with the same numbers: an int8 block type a row at a time in decode and a block
 * of groups at a time in prefill, F16 and BF16 a group at a time in decode too
 * ({@link #heapCopyRefused}; the model's loader warns once).
 */
public final class WeightMatrix {
    private static final System.Logger LOG = System.getLogger(WeightMatrix.class.getName());

    private final String name;
    private final MemorySegment data;
    private final TypeKernel kernel;
    private final int rows;
    private final int cols;
    /** The heap copy of a Q4_0, Q5_0 or Q8_0 matrix; null for other types or when it did not fit. */
    private final RowGroups heapRows;
    /** Whether the type is F16 or BF16, which multiply through {@link HalfGroups}. */
    private final boolean halves;
    /** The heap copy of an F16 or BF16 matrix; null for other types or when it did not fit. */
    private final HalfGroups heapHalves;
    /** The heap copy of a Q4_K, Q5_K or Q6_K matrix; null for other types or when it did not fit. */
    private final SuperBlockGroups heapSuperBlocks;
    /** Whether this matrix would have been copied onto the heap but did not fit. */
    private final boolean heapCopyRefused;

    public WeightMatrix(String name, GgmlType type, MemorySegment data, int rows, int cols) {
        this(name, type, data, rows, cols, true);
    }

    /** {@code mayCopy = false} keeps every type in the mapping (tests of that path). */
    WeightMatrix(String name, GgmlType type, MemorySegment data, int rows, int cols, boolean mayCopy) {
        this.name = name;
        this.data = data;
        this.kernel = TypeKernel.of(type);
        this.rows = rows;
        this.cols = cols;
        this.halves = type == GgmlType.F16 || type == GgmlType.BF16;
        this.heapRows = mayCopy && kernel instanceof Int8BlockKernel k
                && fitsHeap(RowGroups.fitsArrays(k, rows, cols), RowGroups.heapBytes(k, rows, cols)) ? RowGroups.of(k, data, rows, cols) : null;
        this.heapHalves = mayCopy && halves
                && fitsHeap(HalfGroups.fitsArrays(rows, cols), HalfGroups.heapBytes(rows, cols)) ? HalfGroups.of(type == GgmlType.BF16, data, rows, cols) : null;
        this.heapSuperBlocks = mayCopy && kernel instanceof SuperBlockKernel k
                && fitsHeap(SuperBlockGroups.fitsArrays(k, rows, cols), SuperBlockGroups.heapBytes(k, rows, cols)) ? SuperBlockGroups.of(k, data, rows, cols) : null;
        this.heapCopyRefused = mayCopy && (kernel instanceof Int8BlockKernel || halves || kernel instanceof SuperBlockKernel)
                && !onHeap();
    }

    /** Whether a heap copy of {@code bytes} (in arrays that can hold it) leaves a quarter of the maximum heap free. */
    private boolean fitsHeap(boolean fitsArrays, long bytes) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (fitsArrays && bytes <= free - rt.maxMemory() / 4) return true;
        LOG.log(System.Logger.Level.DEBUG, "{0} ({1} x {2} {3}, {4} MiB) stays in the mapped file: the heap has {5} MiB free of {6} MiB",
                name, rows, cols, type(), bytes >> 20, free >> 20, rt.maxMemory() >> 20);
        return false;
    }

    /** Whether this Q4_0, Q5_0, Q8_0, F16, BF16 or K-quant matrix stays in the mapping because its heap copy did not fit. */
    public boolean heapCopyRefused() { return heapCopyRefused; }

    /** Whether the matrix is multiplied from a heap copy rather than from {@link #data()}. */
    public boolean onHeap() { return heapRows != null || heapHalves != null || heapSuperBlocks != null; }

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
        if (heapRows != null) {
            float[] o = padded(out, 1);
            int step = heapRows.groupsPerDot();
            Parallel.forRange(heapRows.groups, Parallel.minChunk((long) cols * Lanes.L), step, (from, to) -> {
                for (int g = from; g < to; g += step) heapRows.dot(g, a, 0, o, g * Lanes.L);
            });
            unpad(o, 1, out);
            return;
        }
        if (heapSuperBlocks != null) {
            float[] o = padded(out, 1);
            float[] subSums = heapSuperBlocks.activationSums(a, cols);
            Parallel.forRange(heapSuperBlocks.groups, Parallel.minChunk((long) cols * Lanes.L), (from, to) -> {
                for (int g = from; g < to; g++) heapSuperBlocks.dot(g, a, subSums, o, g * Lanes.L);
            });
            unpad(o, 1, out);
            return;
        }
        if (halves) {
            float[] o = padded(out, 1);
            Parallel.forRange(RowGroups.groupsFor(rows), Parallel.minChunk((long) cols * Lanes.L), 2, (from, to) -> {
                if (heapHalves != null) {
                    // pieces start on a pair (the grain), so only a matrix's odd last group goes alone
                    for (int g = from; g < to; g += 2) {
                        if (g + 1 < to) heapHalves.dotPair(g, a.values, 0, o, g * Lanes.L);
                        else heapHalves.dot(g, a.values, 0, o, g * Lanes.L);
                    }
                } else {
                    HalfGroups window = TiledProduct.halfWindow(type() == GgmlType.BF16, cols, 1);
                    for (int g = from; g < to; g++) {
                        window.fill(data, rows, g);
                        window.dot(0, a.values, 0, o, g * Lanes.L);
                    }
                }
            });
            unpad(o, 1, out);
            return;
        }
        Parallel.forRange(rows, Parallel.minChunk(cols), (from, to) -> {
            for (int r = from; r < to; r++) out[r] = kernel.dot(data, (long) r * cols, a, 0, cols);
        });
    }

    /**
     * A batch of mat-vecs: {@code x} holds {@code batch} vectors of {@code cols} values one after
     * the other, {@code out} receives {@code batch} vectors of {@code rows} values. All vectors are
     * converted once, up front; each result is then the same number {@link #matVec} gives, so a
     * batched prefill and single-token steps agree bit for bit. Q4_0, Q5_0, Q8_0, F16, BF16 and
     * (on the heap) the K-quants run as register tiles over row groups ({@link TiledProduct}); where another type allows
     * ({@link UnpackedRows}), each worker unpacks a block of rows at a time and passes four
     * vectors at a time over it; other types take their {@code dot} per row and vector.
     */
    public void matMul(float[] x, int batch, float[] out) {
        if (batch == 1) {
            matVec(x, out);
            return;
        }
        QuantizedActivations a = prepare(x, batch * cols);
        if (kernel instanceof Int8BlockKernel k) {
            float[] o = padded(out, batch);
            TiledProduct.multiply(k, heapRows, data, rows, cols, a, batch, o, paddedRows());
            unpad(o, batch, out);
            return;
        }
        if (heapSuperBlocks != null) {
            float[] o = padded(out, batch);
            TiledProduct.multiplySuperBlocks(heapSuperBlocks, a, batch, o, paddedRows());
            unpad(o, batch, out);
            return;
        }
        if (halves) {
            float[] o = padded(out, batch);
            TiledProduct.multiplyHalves(type() == GgmlType.BF16, heapHalves, data, rows, cols, a.values, batch, o, paddedRows());
            unpad(o, batch, out);
            return;
        }
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

    /** Rows rounded up to whole {@link RowGroups}. */
    private int paddedRows() {
        return RowGroups.groupsFor(rows) * Lanes.L;
    }

    private static final ThreadLocal<float[]> paddedOut = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Where row groups write {@code batch} vectors of results: {@code out} itself when the rows are
     * whole groups, else this thread's buffer of {@link #paddedRows} per vector.
     */
    private float[] padded(float[] out, int batch) {
        return rows == paddedRows() ? out : atLeast(paddedOut, batch * paddedRows());
    }

    /** Copies the rows of {@code batch} vectors from {@link #padded} results into {@code out}, if they are not there. */
    private void unpad(float[] o, int batch, float[] out) {
        if (o == out) return;
        for (int b = 0; b < batch; b++) System.arraycopy(o, b * paddedRows(), out, b * rows, rows);
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
