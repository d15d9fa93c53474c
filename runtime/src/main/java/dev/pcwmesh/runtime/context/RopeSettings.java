package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.RopeConfig;
import dev.pcwmesh.runtime.model.RopeScaling;

/**
 * A position encoding by name with its parameters: the file's own RoPE, a rescaling of its
 * frequencies, or ReRoPE. Shared by {@code pcw qa}, {@code pcw eval} and the generator service.
 *
 * @param name           one of {@link #NAMES}
 * @param scale          target length / trained length (linear, ntk, yarn, llama3)
 * @param originalLength yarn, llama3: the trained length the rescaling refers to (null: the trained window)
 * @param basis          truncated-basis: "A,B,RHO"
 * @param reropeWindow   rerope, leaky-rerope: largest distance seen as is (null: half the trained window)
 * @param leak           leaky-rerope: distance grows by 1/leak beyond the window
 */
public record RopeSettings(String name, float scale, Integer originalLength, float betaFast, float betaSlow,
                           float lowFreqFactor, float highFreqFactor, String basis, Integer reropeWindow, float leak) {
    public static final String NAMES = "file, linear, ntk, dynamic-ntk, yarn, llama3, truncated-basis, rerope, leaky-rerope";

    /** The file's RoPE, and the defaults {@code pcw qa --help} shows for the others. */
    public static RopeSettings defaults() {
        return new RopeSettings("file", 1f, null, RopeScaling.YARN_BETA_FAST, RopeScaling.YARN_BETA_SLOW, 1f, 4f, null, null, 16f);
    }

    /**
     * The defaults under {@code name} (blank: the file's), with {@code scale} (0: 1) and the ReRoPE
     * window (0: half the trained window): what a service request's StrategySpec names.
     */
    public static RopeSettings named(String name, float scale, int reropeWindow) {
        RopeSettings d = defaults();
        return new RopeSettings(name.isBlank() ? "file" : name.strip(), scale == 0 ? 1f : scale, null, d.betaFast, d.betaSlow,
                d.lowFreqFactor, d.highFreqFactor, null, reropeWindow == 0 ? null : reropeWindow, d.leak);
    }

    public RopeSettings with(String name, float scale) {
        return new RopeSettings(name, scale, originalLength, betaFast, betaSlow, lowFreqFactor, highFreqFactor, basis, reropeWindow, leak);
    }

    /** The encoding, on top of the file's RoPE settings {@code file}, for a model trained on {@code trainedWindow} tokens. */
    public PositionEncoding positions(RopeConfig file, int trainedWindow) {
        int original = originalLength != null ? originalLength : trainedWindow;
        int w = reropeWindow != null ? reropeWindow : Math.max(1, trainedWindow / 2);
        return switch (name) {
            case "file" -> new PositionEncoding(file, null);
            case "linear" -> scaled(file, new RopeScaling.Linear(scale));
            case "ntk" -> scaled(file, new RopeScaling.Ntk(scale));
            case "dynamic-ntk" -> scaled(file, new RopeScaling.DynamicNtk());
            case "yarn" -> scaled(file, new RopeScaling.Yarn(scale, original, betaFast, betaSlow, 1f));
            case "llama3" -> scaled(file, new RopeScaling.Llama3(scale, lowFreqFactor, highFreqFactor, original));
            case "truncated-basis" -> scaled(file, truncatedBasis());
            case "rerope" -> new PositionEncoding(file, ReRope.clipped(w));
            case "leaky-rerope" -> new PositionEncoding(file, new ReRope(w, leak));
            default -> throw new IllegalArgumentException("unknown rope '" + name + "'; one of: " + NAMES);
        };
    }

    private static PositionEncoding scaled(RopeConfig file, RopeScaling scaling) {
        return new PositionEncoding(file.withScaling(scaling), null);
    }

    private RopeScaling truncatedBasis() {
        if (basis == null) throw new IllegalArgumentException("rope truncated-basis needs a basis A,B,RHO (--basis)");
        String[] p = basis.split(",");
        if (p.length != 3) throw new IllegalArgumentException("the basis takes three numbers A,B,RHO, got '" + basis + "'");
        return new RopeScaling.TruncatedBasis(Float.parseFloat(p[0].strip()), Float.parseFloat(p[1].strip()), Float.parseFloat(p[2].strip()));
    }
}
