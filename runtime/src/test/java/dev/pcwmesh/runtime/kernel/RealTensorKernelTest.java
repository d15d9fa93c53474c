package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every tensor of the llama.cpp-made variants of stories260K (real weights quantized by
 * llama.cpp's own tools) against the scalar reference: {@code dequantize} bit for bit, row by
 * row, and {@code dot} with a random vector, prepared as ggml prepares it, against ggml's generic
 * dot product ({@link ReferenceVecDot}).
 */
class RealTensorKernelTest {

    private static final String[] FILES = {
            "variants/stories260K-Q8_0.gguf",
            "variants/stories260K-Q4_0.gguf",
            "variants/stories260K-Q4_K.gguf",
            "variants/stories260K-pad256-Q4_K.gguf",
            "variants/stories260K-pad256-Q5_K.gguf",
            "variants/stories260K-pad256-Q6_K.gguf",
            "variants/stories260K-qwen3-pad256-Q6_K.gguf",
    };

    @Test
    void everyTensorDecodesAndDotsLikeTheReference() {
        Map<GgmlType, Integer> seen = new EnumMap<>(GgmlType.class);
        Random r = new Random(5);
        for (String f : FILES) {
            try (GgufFile file = GgufFile.open(TestModels.shared(f))) {
                for (GgufTensor t : file.tensors().values()) {
                    if (!t.type().supported()) continue;
                    TypeKernel k = TypeKernel.of(t.type());
                    int cols = t.rowLength(), rows = t.rows();
                    long rowBytes = t.type().bytesFor(cols);
                    float[] x = VecDotTest.activations(cols, r);
                    QuantizedActivations a = k.prepare(x, 0, cols, null);
                    ReferenceVecDot.Q8 ref8 = ReferenceVecDot.prepare(t.type(), x, cols);
                    VecDotTest.assertPreparedLikeReference(t.type(), a, 0, ref8, cols, f + " " + t + " activations");
                    float[] out = new float[cols];
                    for (int row = 0; row < rows; row++) {
                        byte[] bytes = t.data().asSlice(row * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE);
                        float[] ref = ReferenceDequant.dequantize(t.type(), bytes, cols);
                        Arrays.fill(out, Float.NaN);
                        k.dequantize(t.data(), (long) row * cols, out, 0, cols);
                        String what = f + " " + t + " row " + row;
                        QuantKernelTest.assertBitsEqual(ref, out, 0, what);
                        VecDotTest.assertDotLikeReference(t.type(), k.dot(t.data(), (long) row * cols, a, 0, cols),
                                ReferenceVecDot.dot(t.type(), bytes, ref8, cols), what + " dot");
                    }
                    seen.merge(t.type(), 1, Integer::sum);
                }
            }
        }
        // the files hold these types (Q4_1 and BF16 occur in none: only the synthetic tests cover them);
        // a reader or filter that skipped them would otherwise pass vacuously
        Set<GgmlType> expected = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1,
                GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
        assertTrue(seen.keySet().containsAll(expected), "tensor types checked: " + seen + ", expected at least " + expected);
    }
}
