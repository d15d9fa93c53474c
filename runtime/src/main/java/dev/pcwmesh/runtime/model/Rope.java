package dev.pcwmesh.runtime.model;

import java.util.function.DoubleUnaryOperator;

/**
 * Rotates query and key heads by their position, with ggml's arithmetic: the angle of pair
 * {@code i} is built in float as {@code position * thetaScale^i} by repeated multiplication,
 * divided by the pair's frequency divisor and multiplied by the linear frequency scale, and its
 * cosine and sine are rounded to float. Matching that order matters: at positions in the
 * thousands the float angle differs visibly from an exact one, and llama.cpp is the reference.
 *
 * <p>Rescalings ({@link RopeScaling}) change only what the constructor precomputes, in ggml's
 * terms where ggml has them:
 * <ul>
 *   <li>linear: {@code freq_scale = 1/s};</li>
 *   <li>NTK: {@code thetaScale} from the rescaled base;</li>
 *   <li>YaRN: {@code freq_scale = 1/s}, a per-pair ramp between the interpolated and extrapolated
 *       angle ({@code rope_yarn}, ext_factor 1) and a magnitude {@code mscale} on cosine and sine;</li>
 *   <li>Llama 3.1 and truncated basis: per-pair divisors, multiplied into the file's
 *       {@code rope_freqs} divisors as llama.cpp's converter would have written them (a divisor of
 *       +∞ gives angle 0: no rotation).</li>
 * </ul>
 * Without a rescaling, and with linear scaling or file divisors only, the results are bit for bit
 * those of ggml's CPU rope.
 *
 * <p>The same function rotates keys at encode time and when a plan places a stored segment, so a
 * key rotated late equals one rotated early, bit for bit.
 */
public final class Rope {
    private final RopeLayout layout;
    private final int dims;
    private final float thetaScale;
    private final float freqScale;
    /** Divisor of each pair's frequency, or null for none. */
    private final float[] divisors;
    /** YaRN's ramp_mix per pair (1 = extrapolate, 0 = interpolate), or null when angles are not mixed. */
    private final float[] ramp;
    private final float mscale;
    /** Per-thread cos and sin of one position, for {@link #rotate}. */
    private final ThreadLocal<float[][]> table;

    public Rope(RopeConfig config) {
        this.layout = config.layout();
        this.dims = config.dims();
        int half = dims / 2;
        double base = config.scaling() instanceof RopeScaling.Ntk ntk ? ntk.scaledBase(config.base(), dims) : config.base();
        this.thetaScale = (float) Math.pow(base, -2.0 / dims);
        float[] fileFactors = config.freqFactors();
        if (fileFactors != null && fileFactors.length < half) {
            throw new IllegalArgumentException("rope_freqs has " + fileFactors.length + " factors for " + half + " rotated pairs");
        }
        float fs = 1f;
        float[] div = fileFactors;
        float[] mix = null;
        float ms = 1f;
        switch (config.scaling()) {
            case RopeScaling.None _, RopeScaling.Ntk _, RopeScaling.DynamicNtk _ -> { }
            case RopeScaling.Linear l -> fs = 1f / l.factor();
            case RopeScaling.Yarn y -> {
                fs = 1f / y.factor();
                // At factor 1 the interpolated and extrapolated angles are equal: nothing to mix
                // (mixing would only add rounding), so the rotation is exactly the unscaled one.
                if (y.factor() != 1f) mix = yarnRamp(half, dims, y.originalLength(), config.base(), y.betaFast(), y.betaSlow());
                ms = y.attnFactor() * (1.0f + 0.1f * (float) Math.log(1.0f / fs));
            }
            case RopeScaling.Llama3 l -> div = divisors(config, fileFactors, l::divisor);
            case RopeScaling.TruncatedBasis t -> div = divisors(config, fileFactors, theta -> {
                double kept = t.apply(theta);
                return kept == 0 ? Double.POSITIVE_INFINITY : theta / kept;
            });
        }
        this.freqScale = fs;
        this.divisors = div;
        this.ramp = mix;
        this.mscale = ms;
        this.table = ThreadLocal.withInitial(() -> new float[2][half]);
    }

    /**
     * Rotates {@code heads} consecutive heads of {@code headDim} values in {@code x[off..]} to
     * {@code position}. Only the first {@code dims} values of each head are rotated.
     */
    public void rotate(float[] x, int off, int heads, int headDim, int position) {
        rotate(x, off, heads, headDim, (float) position);
    }

    /**
     * Rotates to a fractional {@code position} (as leaky ReRoPE needs); at an integer position it
     * equals {@link #rotate(float[], int, int, int, int)} bit for bit.
     */
    public void rotate(float[] x, int off, int heads, int headDim, float position) {
        int half = dims / 2;
        float[][] cs = table.get();
        float[] cos = cs[0], sin = cs[1];
        cosSin(position, cos, sin, 0);
        for (int i = 0; i < half; i++) {
            for (int h = 0; h < heads; h++) {
                int base = off + h * headDim;
                int a = layout == RopeLayout.NORMAL ? base + 2 * i : base + i;
                int b = layout == RopeLayout.NORMAL ? a + 1 : a + half;
                float x0 = x[a];
                float x1 = x[b];
                x[a] = x0 * cos[i] - x1 * sin[i];
                x[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    /**
     * The cosine and sine {@link #rotate} applies to each of the {@code dims/2} pairs at
     * {@code position}, into {@code cos[off..]} and {@code sin[off..]} (a GPU backend rotates
     * with these tables, so its rotation is the CPU's to the bit).
     */
    public void cosSin(float position, float[] cos, float[] sin, int off) {
        int half = dims / 2;
        float theta = position;
        for (int i = 0; i < half; i++) {
            float angle = angle(theta, i);
            cos[off + i] = (float) Math.cos(angle) * mscale;
            sin[off + i] = (float) Math.sin(angle) * mscale;
            theta *= thetaScale;
        }
    }

    /** Rotated dimensions of a head (pairs are {@code dims/2}). */
    public int dims() { return dims; }

    public RopeLayout layout() { return layout; }

    /** The effective frequency of each pair: its angle at position 1, with every rescaling applied. */
    public float[] frequencies() {
        float[] f = new float[dims / 2];
        float theta = 1f;
        for (int i = 0; i < f.length; i++) {
            f[i] = angle(theta, i);
            theta *= thetaScale;
        }
        return f;
    }

    /** The factor on cosine and sine: YaRN's {@code attnFactor·(1 + 0.1·ln s)}, otherwise 1. Logits scale by its square. */
    public float mscale() {
        return mscale;
    }

    /** Pair {@code i}'s angle from its unscaled angle {@code theta}, in the order of ggml's {@code rope_yarn}. */
    private float angle(float theta, int i) {
        float extrap = divisors == null ? theta : theta / divisors[i];
        float interp = freqScale * extrap;
        return ramp == null ? interp : interp * (1 - ramp[i]) + extrap * ramp[i];
    }

    /** ggml's {@code rope_yarn_ramp} for each pair, between {@code ggml_rope_yarn_corr_dims}, in float. */
    private static float[] yarnRamp(int half, int dims, int originalLength, float base, float betaFast, float betaSlow) {
        float low = Math.max(0, (float) Math.floor(yarnCorrDim(dims, originalLength, betaFast, base)));
        float high = Math.min(dims - 1, (float) Math.ceil(yarnCorrDim(dims, originalLength, betaSlow, base)));
        float[] ramp = new float[half];
        for (int i = 0; i < half; i++) {
            float y = (i - low) / Math.max(0.001f, high - low);
            ramp[i] = 1 - Math.min(1, Math.max(0, y));
        }
        return ramp;
    }

    /** The pair index at which a frequency makes {@code rotations} turns over {@code originalLength} positions. */
    private static float yarnCorrDim(int dims, int originalLength, float rotations, float base) {
        return dims * (float) Math.log(originalLength / (rotations * 2 * (float) Math.PI)) / (2 * (float) Math.log(base));
    }

    /** Divisors {@code θ_i / θ'_i} from a rule on the file's frequencies {@code base^(−2i/d) / fileFactor_i}, times the file's divisors. */
    private static float[] divisors(RopeConfig config, float[] fileFactors, DoubleUnaryOperator divisorOf) {
        int half = config.dims() / 2;
        float[] div = new float[half];
        for (int i = 0; i < half; i++) {
            double ff = fileFactors == null ? 1 : fileFactors[i];
            double theta = Math.pow(config.base(), -2.0 * i / config.dims()) / ff;
            div[i] = (float) (ff * divisorOf.applyAsDouble(theta));
        }
        return div;
    }
}
