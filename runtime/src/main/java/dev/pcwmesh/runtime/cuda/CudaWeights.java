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
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A model's weights on the GPU, uploaded once per model ({@link Model#attachment}) and freed
 * with it. Matrices become what cuBLAS multiplies: F32 and F16 and BF16 stay as stored; Q8_0,
 * Q4_0, Q4_K and Q6_K are uploaded as blocks and dequantised to F16 on the device; any other
 * type is decoded on the host and converted to F16 on the device. Norm weights and biases are
 * float vectors.
 */
final class CudaWeights implements AutoCloseable {

    /** A row-major {@code rows × cols} matrix on the device, of cuBLAS data type {@code type}. */
    record Matrix(long pointer, int rows, int cols, int type) {
        /** The type code of the {@code embed_rows} and {@code matvec} kernels: 0 F32, 1 F16, 2 BF16. */
        int kernelType() {
            return type == Cublas.CUDA_R_32F ? 0 : type == Cublas.CUDA_R_16F ? 1 : 2;
        }
    }

    record Layer(long attnNorm, Matrix wq, Matrix wk, Matrix wv, Matrix wo, long qBias, long kBias, long vBias,
                 long qNorm, long kNorm, long ffnNorm, Matrix gate, Matrix up, Matrix down) {}

    private final CudaDevice device;
    private final List<Long> allocations = new ArrayList<>();
    final Matrix embedding;
    final Layer[] layers;
    final long outputNorm;
    final Matrix output;
    /** Bytes of device memory the weights take. */
    final long bytes;
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
            case F32, F16, BF16 -> {
                long p = alloc(m.data().byteSize());
                upload(p, m.data(), stream);
                int t = type == GgmlType.F32 ? Cublas.CUDA_R_32F : type == GgmlType.F16 ? Cublas.CUDA_R_16F : Cublas.CUDA_R_16BF;
                return new Matrix(p, m.rows(), m.cols(), t);
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                long half = alloc(2 * elements);
                long blocks = device.driver.malloc(m.data().byteSize());
                try {
                    upload(blocks, m.data(), stream);
                    long n = elements / type.blockSize();
                    device.launch("dequant_" + type.name().toLowerCase(java.util.Locale.ROOT), CudaDevice.blocks(n, 256), 1, 256,
                            stream, blocks, half, n);
                    device.driver.synchronize(stream);
                } finally {
                    device.driver.free(blocks);
                }
                return new Matrix(half, m.rows(), m.cols(), Cublas.CUDA_R_16F);
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
                return new Matrix(half, m.rows(), m.cols(), Cublas.CUDA_R_16F);
            }
        }
    }

    /** Reads a device F16 or F32 matrix back as floats (for the check that device dequantisation equals the host's). */
    static float[] download(Matrix m) {
        CudaDevice device = CudaDevice.get();
        device.makeCurrent();
        long n = (long) m.rows() * m.cols();
        float[] out = new float[Math.toIntExact(n)];
        MemorySegment stream = device.driver.createStream();
        try (Arena a = Arena.ofConfined()) {
            if (m.type() == Cublas.CUDA_R_32F) {
                MemorySegment host = a.allocate(4 * n);
                device.driver.copyToHost(host, m.pointer(), 4 * n, stream);
                device.driver.synchronize(stream);
                MemorySegment.copy(host, JAVA_FLOAT, 0, out, 0, out.length);
            } else {
                MemorySegment host = a.allocate(2 * n);
                device.driver.copyToHost(host, m.pointer(), 2 * n, stream);
                device.driver.synchronize(stream);
                for (int i = 0; i < out.length; i++) {
                    short bits = host.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i);
                    out[i] = m.type() == Cublas.CUDA_R_16F ? Float.float16ToFloat(bits) : Float.intBitsToFloat((bits & 0xffff) << 16);
                }
            }
        } finally {
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
