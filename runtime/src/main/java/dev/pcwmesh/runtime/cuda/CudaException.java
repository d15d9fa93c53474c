package dev.pcwmesh.runtime.cuda;

/** A CUDA library is missing, or a call into one failed; the message names the call and the error. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
