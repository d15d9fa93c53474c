package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.gguf.GgufException;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.kernel.TypeKernel;

import java.util.Arrays;
import java.util.Objects;

/**
 * Rotary position embedding settings of a model: layout, base frequency, rotated dimensions, the
 * length it was trained on, a {@link RopeScaling rescaling} of the frequencies, and per-pair
 * frequency divisors (the {@code rope_freqs.weight} tensor that Llama 3.1+ files carry).
 *
 * <p>{@link #fromGguf} honours the rescaling the file stores ({@code rope.scaling.type} none,
 * linear or yarn); {@link #withScaling} replaces it, for running a model past its trained length.
 *
 * @param trainedLength the context length the model was trained on ({@code context_length}); the
 *                      length {@link RopeScaling.DynamicNtk} measures against
 * @param freqFactors   divisors of each pair's frequency, or null
 */
public record RopeConfig(RopeLayout layout, int dims, float base, int trainedLength, RopeScaling scaling, float[] freqFactors) {

    /** llama.cpp's fallback when a file has no {@code context_length}. */
    public static final int DEFAULT_CONTEXT_LENGTH = 2048;

    public RopeConfig {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(scaling, "scaling");
        if (dims <= 0) throw new IllegalArgumentException("rope dimension count must be positive, got " + dims);
        if (trainedLength <= 0) throw new IllegalArgumentException("trained context length must be positive, got " + trainedLength);
    }

    public static RopeConfig fromGguf(GgufFile file, Architecture arch, int headDim) {
        String p = arch.ggufName() + ".";
        int dims = file.getInt(p + "rope.dimension_count", headDim);
        float base = file.getFloat(p + "rope.freq_base", 10000f);
        int trainedLength = file.getInt(p + "context_length", DEFAULT_CONTEXT_LENGTH);
        String type = file.findString(p + "rope.scaling.type").orElse("none");
        float factor = file.getFloat(p + "rope.scaling.factor", 1f);
        if (factor == 0f) factor = 1f; // llama.cpp reads a stored 0 as "not set"
        try {
            RopeScaling scaling = switch (type) {
                case "none" -> file.has(p + "rope.scale_linear")
                        ? new RopeScaling.Linear(file.getFloat(p + "rope.scale_linear"))
                        : new RopeScaling.None();
                case "linear" -> new RopeScaling.Linear(factor);
                case "yarn" -> new RopeScaling.Yarn(
                        factor,
                        file.getInt(p + "rope.scaling.original_context_length", trainedLength),
                        file.getFloat(p + "rope.scaling.yarn_beta_fast", RopeScaling.YARN_BETA_FAST),
                        file.getFloat(p + "rope.scaling.yarn_beta_slow", RopeScaling.YARN_BETA_SLOW),
                        file.getFloat(p + "rope.scaling.attn_factor", 1f));
                default -> {
                    // A scaling that changes every rotation (longrope, ...): running without it would
                    // give wrong answers at every position, so refuse rather than guess.
                    if (factor != 1f) {
                        throw new GgufException(file.path().getFileName() + ": RoPE scaling '" + type + "' (factor " + factor
                                + ") is not supported by this runtime yet; supported: none, linear, yarn");
                    }
                    yield new RopeScaling.None();
                }
            };
            float[] factors = null;
            if (file.findTensor("rope_freqs.weight").isPresent()) {
                GgufTensor t = file.tensor("rope_freqs.weight");
                factors = new float[Math.toIntExact(t.elementCount())];
                TypeKernel.of(t.type()).dequantize(t.data(), 0, factors, 0, factors.length);
            }
            return new RopeConfig(arch.ropeLayout(), dims, base, trainedLength, scaling, factors);
        } catch (IllegalArgumentException e) {
            throw new GgufException(file.path().getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** This config with another rescaling (the file's is replaced, not combined; {@code freqFactors} stay). */
    public RopeConfig withScaling(RopeScaling scaling) {
        return new RopeConfig(layout, dims, base, trainedLength, scaling, freqFactors);
    }

    /**
     * The config to rotate with when the context is {@code length} tokens long: a
     * {@link RopeScaling.DynamicNtk} becomes {@code Ntk(max(1, length / trainedLength))}; every
     * other rescaling is fixed, so the config is returned as it is.
     */
    public RopeConfig forLength(int length) {
        if (scaling instanceof RopeScaling.DynamicNtk) {
            return withScaling(new RopeScaling.Ntk(Math.max(1f, (float) length / trainedLength)));
        }
        return this;
    }

    /**
     * A stable description, part of a KV segment's identity (keys depend on it only through
     * placement, values through attention). It differs whenever rotations differ. No rescaling and
     * linear scaling keep the form they had before rescalings existed
     * ({@code layout:dims:base:linearFactor[:freqFactorsHash]}), so stored segment ids stay valid;
     * the others append their {@link RopeScaling#describe()}.
     */
    public String describe() {
        float linear = scaling instanceof RopeScaling.Linear l ? l.factor() : 1f;
        String d = layout + ":" + dims + ":" + base + ":" + linear + (freqFactors == null ? "" : ":" + Arrays.hashCode(freqFactors));
        return scaling instanceof RopeScaling.None || scaling instanceof RopeScaling.Linear ? d : d + ":" + scaling.describe();
    }
}
