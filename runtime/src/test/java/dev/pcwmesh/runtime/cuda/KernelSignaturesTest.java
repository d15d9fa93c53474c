package dev.pcwmesh.runtime.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Launch arguments are checked against the kernels' declarations in kernels.cu, without a GPU. */
class KernelSignaturesTest {
    private final KernelSignatures signatures = KernelSignatures.of(CudaDevice.kernelSource());

    @Test
    void everyLoadedKernelHasParametersTheLauncherCanPass() {
        for (String kernel : CudaDevice.KERNELS) {
            Object[] args = signatures.parameters(kernel).stream().map(KernelSignaturesTest::sample).toArray();
            assertDoesNotThrow(() -> signatures.check(kernel, args), kernel);
        }
    }

    @Test
    void aMismatchedArgumentNamesTheKernelAndTheParameter() {
        assertEquals(java.util.List.of("const float* x", "u16* y", "long n"), signatures.parameters("convert_f32_f16"));
        IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class,
                () -> signatures.check("convert_f32_f16", new Object[] {1L, 2L, 3}));
        assertTrue(wrongType.getMessage().contains("convert_f32_f16 argument 2 (long n) takes a Long, given Integer"), wrongType.getMessage());
        IllegalArgumentException wrongCount = assertThrows(IllegalArgumentException.class,
                () -> signatures.check("rope_store", new Object[] {1L}));
        assertTrue(wrongCount.getMessage().contains("rope_store takes 13 arguments, given 1"), wrongCount.getMessage());
        assertThrows(IllegalArgumentException.class, () -> signatures.parameters("no_such_kernel"));
    }

    private static Object sample(String declaration) {
        if (declaration.contains("*") || declaration.startsWith("long ")) return 0L;
        return declaration.startsWith("float ") ? (Object) 0f : (Object) 0;
    }
}
