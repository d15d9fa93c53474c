package dev.pcwmesh.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuBLAS through FFM: one handle on one stream, and the one product the forward pass needs,
 * {@code Y = X·Wᵀ} for row-major activations X (n × k) and a row-major weight W (m × k), with
 * float accumulation ({@code cublasGemmEx}, CUBLAS_COMPUTE_32F: F16 and BF16 on the tensor
 * cores, F32 in full float precision, never TF32).
 */
final class Cublas {
    static final int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;
    private static final int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
    private static final int CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    private static final int CUBLAS_GEMM_DEFAULT = -1;

    private static MethodHandle cublasCreate, cublasDestroy, cublasSetStream, cublasSetWorkspace, cublasGemmEx, cublasGemmStridedBatchedEx;
    /** 1.0f and 0.0f, the host-side alpha and beta of every product. */
    private static MemorySegment one, zero;

    private final MemorySegment handle;

    private static synchronized void bind() {
        if (cublasGemmEx != null) return;
        NativeCalls lib = new NativeCalls("libcublas", CudaLibraries.open("cuBLAS", "libcublas"));
        cublasCreate = lib.status("cublasCreate_v2", ADDRESS);
        cublasDestroy = lib.status("cublasDestroy_v2", ADDRESS);
        cublasSetStream = lib.status("cublasSetStream_v2", ADDRESS, ADDRESS);
        cublasSetWorkspace = lib.status("cublasSetWorkspace_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cublasGemmEx = lib.status("cublasGemmEx", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT);
        cublasGemmStridedBatchedEx = lib.status("cublasGemmStridedBatchedEx", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS,
                JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT);
        one = Arena.global().allocateFrom(JAVA_FLOAT, 1f);
        zero = Arena.global().allocateFrom(JAVA_FLOAT, 0f);
    }

    /**
     * A handle on {@code stream} with its own workspace of {@code workspaceBytes} at device address
     * {@code workspace}, so that cuBLAS never allocates during a product (which a CUDA graph
     * capture would refuse).
     */
    Cublas(MemorySegment stream, long workspace, long workspaceBytes) {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(ADDRESS);
            check((int) cublasCreate.invokeExact(h), "cublasCreate");
            handle = h.get(ADDRESS, 0);
            check((int) cublasSetStream.invokeExact(handle, stream), "cublasSetStream");
            check((int) cublasSetWorkspace.invokeExact(handle, workspace, workspaceBytes), "cublasSetWorkspace");
        } catch (Throwable t) { throw wrap(t); }
    }

    /**
     * {@code y[n × m] = x[n × k] · w[m × k]ᵀ}, all row-major; x and w of {@code type}, y float.
     * In cuBLAS's column-major terms: {@code Yᶜ (m × n) = Wᶜᵀ · Xᶜ} with W and X as stored.
     * With {@code accumulate} the product is added to {@code y} (the residual connection, without
     * a pass of its own).
     */
    void matMul(long w, long x, long y, int m, int n, int k, int type, boolean accumulate) {
        MemorySegment beta = accumulate ? one : zero;  // a local: invokeExact would see a conditional as Object
        try {
            check((int) cublasGemmEx.invokeExact(handle, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, one,
                    w, type, k, x, type, k, beta, y, CUDA_R_32F, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                    "cublasGemmEx");
        } catch (Throwable t) { throw wrap(t); }
    }

    /**
     * {@code batch} float products {@code C_i = op(A_i)·B_i} in cuBLAS's column-major terms
     * ({@code A_i = a + i·strideA} elements, likewise B and C), on the tensor cores in TF32 with
     * float accumulation: the attention scores and value mixes of long batches. {@code transposeA}
     * takes A transposed; {@code accumulate} adds to C.
     */
    void batchedTf32(boolean transposeA, int m, int n, int k, long a, int lda, long strideA, long b, int ldb, long strideB,
                     long c, int ldc, long strideC, int batch, boolean accumulate) {
        MemorySegment beta = accumulate ? one : zero;
        int opA = transposeA ? CUBLAS_OP_T : CUBLAS_OP_N;
        try {
            check((int) cublasGemmStridedBatchedEx.invokeExact(handle, opA, CUBLAS_OP_N, m, n, k,
                    one, a, CUDA_R_32F, lda, strideA, b, CUDA_R_32F, ldb, strideB, beta, c, CUDA_R_32F, ldc,
                    strideC, batch, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT), "cublasGemmStridedBatchedEx");
        } catch (Throwable t) { throw wrap(t); }
    }

    void close() {
        try { check((int) cublasDestroy.invokeExact(handle), "cublasDestroy"); } catch (Throwable t) { throw wrap(t); }
    }

    private static void check(int status, String call) {
        if (status != 0) throw new CudaException(call + " failed: cublasStatus_t " + status + " (" + name(status) + ")");
    }

    private static String name(int status) {
        return switch (status) {
            case 1 -> "NOT_INITIALIZED";
            case 3 -> "ALLOC_FAILED";
            case 7 -> "INVALID_VALUE";
            case 8 -> "ARCH_MISMATCH";
            case 11 -> "MAPPING_ERROR";
            case 13 -> "EXECUTION_FAILED";
            case 14 -> "INTERNAL_ERROR";
            case 15 -> "NOT_SUPPORTED";
            default -> "see cublas_api.h";
        };
    }

    private static CudaException wrap(Throwable t) {
        return t instanceof CudaException c ? c : new CudaException("cuBLAS could not be called: " + t, t);
    }
}
