package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.cuda.CudaDevice;

import java.util.Locale;

/** Where a model's forward passes run. */
public enum Backend {
    /** Java Vector API kernels on every core. */
    CPU,
    /** An NVIDIA GPU through the CUDA driver, cuBLAS and NVRTC (see {@code dev.pcwmesh.runtime.cuda}). */
    CUDA,
    /** CUDA when a GPU is usable, else the CPU. */
    AUTO;

    /** CPU or CUDA: AUTO decided now; CUDA checked, with a {@link dev.pcwmesh.runtime.cuda.CudaException} saying why it cannot run. */
    public Backend resolve() {
        return switch (this) {
            case CPU -> CPU;
            case CUDA -> {
                CudaDevice.get();
                yield CUDA;
            }
            case AUTO -> CudaDevice.available() ? CUDA : CPU;
        };
    }

    /** {@code cpu}, {@code cuda} or {@code auto}, in any case. */
    public static Backend parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown backend '" + name + "': use cpu, cuda or auto");
        }
    }

    public String label() { return name().toLowerCase(Locale.ROOT); }
}
