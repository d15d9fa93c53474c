package dev.pcwmesh.runtime.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel sources compile, which needs no GPU: with NVRTC to PTX, and with nvcc (whose
 * ptxas then allocates registers) to machine code, for the oldest and newest architectures we
 * target, without spilling to local memory. Each is skipped, saying so, where its compiler is
 * not installed (CI's machines have nvcc but no NVRTC library).
 */
class KernelSourceTest {
    @TempDir Path dir;

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

    @Test
    void kernelsCompileWithNvccToMachineCodeWithoutSpilling() throws Exception {
        Path nvcc = List.of(Path.of("/usr/local/cuda/bin/nvcc"), Path.of("/usr/bin/nvcc")).stream().filter(Files::isExecutable)
                .findFirst().orElse(null);
        Assumptions.assumeTrue(nvcc != null, "nvcc is not installed here, so ptxas cannot check the kernels' registers");
        Path source = Files.writeString(dir.resolve("kernels.cu"), CudaDevice.kernelSource());
        for (String arch : new String[] {"sm_75", "sm_90"}) {
            Process p = new ProcessBuilder(nvcc.toString(), "-arch=" + arch, "-cubin", "-Xptxas", "-v", "-o",
                    dir.resolve(arch + ".cubin").toString(), source.toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "nvcc ran past 300 s");
            assertEquals(0, p.exitValue(), "nvcc failed for " + arch + ":\n" + log);
            for (String kernel : CudaDevice.KERNELS) {
                assertTrue(log.contains("Compiling entry function '" + kernel + "' for '" + arch + "'"), kernel + " was not compiled for " + arch);
            }
            for (String line : log.lines().filter(l -> l.contains("spill")).toList()) {
                assertTrue(line.contains("0 bytes spill stores, 0 bytes spill loads"), arch + ": " + line);
            }
        }
    }
}
