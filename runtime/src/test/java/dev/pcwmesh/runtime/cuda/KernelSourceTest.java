package dev.pcwmesh.runtime.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel sources compile with NVRTC, which needs no GPU: to PTX for the oldest and newest
 * architectures we target. Skipped, saying so, where NVRTC is not installed (CI has none).
 */
class KernelSourceTest {

    @Test
    void kernelsCompileToPtxForEveryTargetedArchitecture() {
        Nvrtc nvrtc;
        try {
            nvrtc = new Nvrtc();
        } catch (CudaException e) {
            Assumptions.abort("NVRTC is not installed here, so the kernels cannot be compile-checked: " + e.getMessage());
            return;
        }
        String source = CudaDevice.kernelSource();
        for (String arch : new String[] {"compute_75", "compute_90"}) {
            Nvrtc.Image image = nvrtc.compilePtx(source, "kernels.cu", arch);
            String ptx = new String(image.bytes(), StandardCharsets.US_ASCII);
            for (String kernel : CudaDevice.KERNELS) {
                assertTrue(ptx.contains(".entry " + kernel + "("), kernel + " is missing from the PTX for " + arch);
            }
            assertTrue(!ptx.contains(".local"), "a kernel spills to local memory for " + arch + " (NVRTC " + nvrtc.version() + ")");
        }
    }
}
