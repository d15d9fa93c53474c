package dev.pcwmesh.runtime.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA kernels, as shipped in kernels.cu, run on the CPU in the emulator of
 * {@code src/test/gpu/emulator} against C++ references of what each computes (its checks print a
 * relative error each). A GPU run stays the proof; this catches a kernel's indexing, barrier or
 * warp-collective mistake on every build. It is built with AddressSanitizer where g++ has it, so
 * that a kernel reading or writing past a buffer, which on a GPU faults and ends the process's
 * CUDA context, fails here too. Skipped, saying so, where there is no g++ or no source tree.
 */
class KernelEmulationTest {
    @TempDir Path dir;

    @Test
    void kernelsMatchTheirReferencesInTheEmulator() throws Exception {
        Path emulator = List.of(Path.of("src/test/gpu/emulator"), Path.of("runtime/src/test/gpu/emulator")).stream()
                .filter(Files::isDirectory).map(Path::toAbsolutePath).findFirst().orElse(null);
        Assumptions.assumeTrue(emulator != null, "the emulator's sources are not here (a test jar without the source tree)");
        Path kernels = emulator.resolve("../../../main/resources/dev/pcwmesh/runtime/cuda").normalize();
        Path binary = dir.resolve("kernels_test");
        List<String> build = List.of("g++", "-std=c++17", "-O1", "-U_FORTIFY_SOURCE", "-Wno-unknown-pragmas", "-I", kernels.toString(),
                "-o", binary.toString(), emulator.resolve("kernels_test.cpp").toString());
        Run compile;
        try {
            List<String> sanitized = new java.util.ArrayList<>(build);
            sanitized.add(1, "-fsanitize=address");
            compile = run(dir, 300, sanitized.toArray(String[]::new));
            if (compile.exit != 0) {
                System.out.println("the emulator builds without AddressSanitizer here:\n" + compile.output);
                compile = run(dir, 300, build.toArray(String[]::new));
            }
        } catch (IOException e) {
            Assumptions.abort("no g++ here to build the kernel emulator: " + e.getMessage());
            return;
        }
        assertEquals(0, compile.exit, "the emulator did not build:\n" + compile.output);
        Run checks = run(dir, 300, binary.toString());
        System.out.print(checks.output);
        assertEquals(0, checks.exit, "kernel checks failed in the emulator:\n" + checks.output);
        assertTrue(checks.output.contains("0 failed"), checks.output);
    }

    private record Run(int exit, String output) {}

    private static Run run(Path dir, int seconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " ran past " + seconds + " s");
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
