package dev.pcwmesh.runtime.cuda;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.kernel.TypeKernel;
import dev.pcwmesh.runtime.kernel.WeightMatrix;
import dev.pcwmesh.runtime.model.LayerWeights;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.Weights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A model's weights on the GPU, uploaded once per model ({@link Model#attachment}) and freed
 * with it. F32, F16 and BF16 matrices stay as stored; Q8_0, Q4_0, Q4_K and Q6_K stay GGUF's
 * blocks, which the decode kernels read as they are (so a decode step reads the file's bytes
 * and no more); any other type is decoded on the host and converted to F16 on the device. Norm
 * weights and biases are float vectors.
 *
 * <p>cuBLAS multiplies a batch in F16, so a quantized matrix needs an F16 form there. At the
 * first batch, F16 copies of all quantized matrices are made if they fit in half the free device
 * memory (an encoder's windows of a few hundred tokens would otherwise spend as long
 * dequantising as multiplying); otherwise each batch dequantises each matrix into scratch just
 * before its product, so a model too large for F16 still runs.
 */
final class CudaWeights implements AutoCloseable {

    /**
     * A row-major {@code rows × cols} matrix on the device, of the kernels' type code
     * {@code kernelType} ({@code embed_rows}, {@code matvec}): 0 F32, 1 F16, 2 BF16, or GGUF blocks
     * of 3 Q8_0, 4 Q4_0, 5 Q4_K, 6 Q6_K.
     */
    record Matrix(long pointer, int rows, int cols, int kernelType) {
        static final int F32 = 0, F16 = 1, BF16 = 2, Q8_0 = 3, Q4_0 = 4, Q4_K = 5, Q6_K = 6;
        private static final GgmlType[] QUANTIZED = {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K};

        boolean quantized() { return kernelType >= Q8_0; }

        /** The cuBLAS data type this matrix is multiplied in: a quantized one is dequantised to F16 first. */
        int cublasType() {
            return kernelType == F32 ? Cublas.CUDA_R_32F : kernelType == BF16 ? Cublas.CUDA_R_16BF : Cublas.CUDA_R_16F;
        }

        /** The quantized type of the blocks. */
        GgmlType blockType() {
            if (!quantized()) throw new IllegalStateException("not a quantized matrix");
            return QUANTIZED[kernelType - Q8_0];
        }

        /** Bytes of the matrix dequantised to F16. */
        long halfBytes() { return 2L * rows * cols; }

        /** Writes the matrix as F16 to {@code half} ({@link #halfBytes} long), queued on {@code stream}. */
        void dequantize(CudaDevice device, long half, MemorySegment stream) {
            GgmlType t = blockType();
            long n = (long) rows * cols / t.blockSize();
            device.launch("dequant_" + t.name().toLowerCase(java.util.Locale.ROOT), CudaDevice.blocks(n, 256), 1, 256, stream,
                    pointer, half, n);
        }
    }

    record Layer(long attnNorm, Matrix wq, Matrix wk, Matrix wv, Matrix wo, long qBias, long kBias, long vBias,
                 long qNorm, long kNorm, long ffnNorm, Matrix gate, Matrix up, Matrix down) {
        List<Matrix> matrices() { return List.of(wq, wk, wv, wo, gate, up, down); }
    }

    private final CudaDevice device;
    private final List<Long> allocations = new ArrayList<>();
    final Matrix embedding;
    final Layer[] layers;
    final long outputNorm;
    final Matrix output;
    /** Bytes of device memory the weights take. */
    final long bytes;
    /** F16 bytes of the largest quantized matrix of the layers: the scratch a batch's cuBLAS products dequantise into. */
    final long largestQuantizedLayerHalfBytes;
    /** The F16 copies of quantized matrices, once made. */
    private final Map<Matrix, Long> halfCopies = new IdentityHashMap<>();
    /** Whether the copies were made, once decided; whether they may be. */
    private Boolean halvesMade;
    private boolean halvesAllowed = true;
    private long halfCopyBytes;
    private long allocated;

    static CudaWeights of(Model model) {
        return model.attachment(CudaWeights.class, () -> new CudaWeights(model));
    }

    private CudaWeights(Model model) {
        device = CudaDevice.get();
        device.makeCurrent();
        MemorySegment stream = device.driver.createStream();
        try {
            Weights w = model.weights();
            embedding = matrix(w.tokenEmbedding(), stream);
            layers = new Layer[w.layers().length];
            for (int l = 0; l < layers.length; l++) {
                LayerWeights lw = w.layers()[l];
                layers[l] = new Layer(vector(lw.attnNorm(), stream), matrix(lw.wq(), stream), matrix(lw.wk(), stream),
                        matrix(lw.wv(), stream), matrix(lw.wo(), stream), vector(lw.qBias(), stream), vector(lw.kBias(), stream),
                        vector(lw.vBias(), stream), vector(lw.qNorm(), stream), vector(lw.kNorm(), stream),
                        vector(lw.ffnNorm(), stream), matrix(lw.gate(), stream), matrix(lw.up(), stream), matrix(lw.down(), stream));
            }
            outputNorm = vector(w.outputNorm(), stream);
            output = w.output() == w.tokenEmbedding() ? embedding : matrix(w.output(), stream);
            largestQuantizedLayerHalfBytes = Arrays.stream(layers).flatMap(l -> l.matrices().stream()).filter(Matrix::quantized)
                    .mapToLong(Matrix::halfBytes).max().orElse(0);
            device.driver.synchronize(stream);
            bytes = allocated;
        } catch (RuntimeException e) {
            close();
            throw e;
        } finally {
            device.driver.destroyStream(stream);
        }
    }

    private long alloc(long size) {
        long p = device.driver.malloc(size);
        allocations.add(p);
        allocated += size;
        return p;
    }

    /** A float vector, or 0 for none. */
    private long vector(float[] v, MemorySegment stream) {
        if (v == null) return 0;
        long p = alloc(4L * v.length);
        upload(p, MemorySegment.ofArray(v), stream);
        return p;
    }

    private void upload(long dst, MemorySegment heapOrMapped, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = heapOrMapped.isNative() ? heapOrMapped : a.allocate(heapOrMapped.byteSize()).copyFrom(heapOrMapped);
            device.driver.copyToDevice(dst, staging, heapOrMapped.byteSize(), stream);
            device.driver.synchronize(stream);
        }
    }

    private Matrix matrix(WeightMatrix m, MemorySegment stream) {
        long elements = (long) m.rows() * m.cols();
        GgmlType type = m.type();
        switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K -> {
                long p = alloc(m.data().byteSize());
                upload(p, m.data(), stream);
                int t = switch (type) {
                    case F32 -> Matrix.F32;
                    case F16 -> Matrix.F16;
                    case BF16 -> Matrix.BF16;
                    case Q8_0 -> Matrix.Q8_0;
                    case Q4_0 -> Matrix.Q4_0;
                    case Q4_K -> Matrix.Q4_K;
                    default -> Matrix.Q6_K;
                };
                return new Matrix(p, m.rows(), m.cols(), t);
            }
            default -> {
                // Decoded on the host a slab of rows at a time, converted to F16 on the device.
                long half = alloc(2 * elements);
                int slab = Math.max(1, (int) Math.min(m.rows(), (64L << 20) / (4L * m.cols())));
                long floats = device.driver.malloc(4L * slab * m.cols());
                try {
                    TypeKernel k = TypeKernel.of(type);
                    float[] rows = new float[slab * m.cols()];
                    for (int r = 0; r < m.rows(); r += slab) {
                        int count = Math.min(slab, m.rows() - r);
                        k.dequantize(m.data(), (long) r * m.cols(), rows, 0, count * m.cols());
                        upload(floats, MemorySegment.ofArray(rows).asSlice(0, 4L * count * m.cols()), stream);
                        long n = (long) count * m.cols();
                        device.launch("convert_f32_f16", CudaDevice.blocks(n, 256), 1, 256, stream, floats,
                                half + 2L * r * m.cols(), n);
                        device.driver.synchronize(stream);
                    }
                } finally {
                    device.driver.free(floats);
                }
                return new Matrix(half, m.rows(), m.cols(), Matrix.F16);
            }
        }
    }

    /**
     * Makes the F16 copies of every quantized matrix, if allowed and they fit in half the free
     * device memory, the first time a batch needs them; says whether there are copies. Called
     * before a pass is queued, never while a stream is being captured (it allocates).
     */
    synchronized boolean ensureHalfCopies(MemorySegment stream) {
        if (halvesMade != null) return halvesMade;
        List<Matrix> quantized = new ArrayList<>(Arrays.stream(layers).flatMap(l -> l.matrices().stream()).filter(Matrix::quantized).toList());
        if (output.quantized()) quantized.add(output);
        long need = quantized.stream().mapToLong(Matrix::halfBytes).sum();
        halvesMade = halvesAllowed && need <= device.driver.memoryInfo()[0] / 2;
        if (halvesMade) {
            device.makeCurrent();
            for (Matrix m : quantized) {
                long p = alloc(m.halfBytes());
                m.dequantize(device, p, stream);
                halfCopies.put(m, p);
            }
            device.driver.synchronize(stream);
            halfCopyBytes = need;
        }
        return halvesMade;
    }

    /** The F16 copy of quantized matrix {@code m}, or 0 when there is none (a batch then dequantises it into scratch). */
    synchronized long halfCopy(Matrix m) {
        Long p = halfCopies.get(m);
        return p == null ? 0 : p;
    }

    /** Bytes of the F16 copies, 0 until they are made. */
    synchronized long halfCopyBytes() {
        return halfCopyBytes;
    }

    /** Forbids the F16 copies before any are made, so that every batch dequantises into scratch (the path of models too large for them). */
    synchronized void forbidHalfCopies() {
        if (halvesMade != null && halvesMade) throw new IllegalStateException("the F16 copies are made already");
        halvesAllowed = false;
        halvesMade = null;
    }

    /**
     * Reads a device matrix back as floats, a quantized one as it is dequantised to F16 for cuBLAS
     * (for the check that device dequantisation equals the host's).
     */
    static float[] download(Matrix m) {
        CudaDevice device = CudaDevice.get();
        device.makeCurrent();
        long n = (long) m.rows() * m.cols();
        float[] out = new float[Math.toIntExact(n)];
        MemorySegment stream = device.driver.createStream();
        long half = m.quantized() ? device.driver.malloc(m.halfBytes()) : 0;
        try (Arena a = Arena.ofConfined()) {
            long source = m.pointer();
            if (m.quantized()) {
                m.dequantize(device, half, stream);
                source = half;
            }
            if (m.kernelType() == Matrix.F32) {
                MemorySegment host = a.allocate(4 * n);
                device.driver.copyToHost(host, source, 4 * n, stream);
                device.driver.synchronize(stream);
                MemorySegment.copy(host, JAVA_FLOAT, 0, out, 0, out.length);
            } else {
                MemorySegment host = a.allocate(2 * n);
                device.driver.copyToHost(host, source, 2 * n, stream);
                device.driver.synchronize(stream);
                for (int i = 0; i < out.length; i++) {
                    short bits = host.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i);
                    out[i] = m.kernelType() == Matrix.BF16 ? Float.intBitsToFloat((bits & 0xffff) << 16) : Float.float16ToFloat(bits);
                }
            }
        } finally {
            if (half != 0) device.driver.free(half);
            device.driver.destroyStream(stream);
        }
        return out;
    }

    @Override
    public void close() {
        device.makeCurrent();
        for (long p : allocations) device.driver.free(p);
        allocations.clear();
    }
}
