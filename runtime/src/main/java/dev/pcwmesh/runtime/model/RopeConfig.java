package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.gguf.GgufException;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.kernel.TypeKernel;

import java.util.Arrays;

/**
 * Rotary position embedding settings of a model as the file describes them: layout, base
 * frequency, rotated dimensions, linear scaling factor ({@code rope.scaling.type = linear}) and
 * per-dimension frequency factors (the {@code rope_freqs.weight} tensor that Llama 3.1+ files carry).
 *
 * @param freqFactors divisors of each pair's frequency, or null
 */
public record RopeConfig(RopeLayout layout, int dims, float base, float linearScale, float[] freqFactors) {

    public static RopeConfig fromGguf(GgufFile file, Architecture arch, int headDim) {
        String p = arch.ggufName() + ".";
        int dims = file.getInt(p + "rope.dimension_count", headDim);
        float base = file.getFloat(p + "rope.freq_base", 10000f);
        float scale = 1f;
        String type = file.findString(p + "rope.scaling.type").orElse("none");
        float factor = file.getFloat(p + "rope.scaling.factor", 1f);
        switch (type) {
            case "none" -> {
                if (file.has(p + "rope.scale_linear")) scale = file.getFloat(p + "rope.scale_linear");
            }
            case "linear" -> scale = factor;
            default -> {
                // A scaling that changes every rotation (yarn, longrope): running without it would
                // give wrong answers at every position, so refuse rather than guess.
                if (factor != 1f) {
                    throw new GgufException(file.path().getFileName() + ": RoPE scaling '" + type + "' (factor " + factor
                            + ") is not supported by this runtime yet; supported: none, linear");
                }
            }
        }
        float[] factors = null;
        if (file.findTensor("rope_freqs.weight").isPresent()) {
            GgufTensor t = file.tensor("rope_freqs.weight");
            factors = new float[Math.toIntExact(t.elementCount())];
            TypeKernel.of(t.type()).dequantize(t.data(), 0, factors, 0, factors.length);
        }
        return new RopeConfig(arch.ropeLayout(), dims, base, scale, factors);
    }

    /** A stable description, part of a KV segment's identity (keys depend on it only through placement, values through attention). */
    public String describe() {
        return layout + ":" + dims + ":" + base + ":" + linearScale + (freqFactors == null ? "" : ":" + Arrays.hashCode(freqFactors));
    }
}
