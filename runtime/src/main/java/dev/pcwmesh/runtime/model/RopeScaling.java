package dev.pcwmesh.runtime.model;

/**
 * A rescaling of the rotary frequencies {@code θ_i = base^(−2i/d)} (pair {@code i}, {@code d}
 * rotated dimensions) that lets a model attend past the length it was trained on.
 *
 * <p>Why rescale at all: a model has only seen the angles {@code p·θ_i} for positions below its
 * trained length {@code L}. Beyond it the slow pairs turn further than anything in training and
 * attention degrades. Each rescaling below is a different answer to "which pairs should be slowed,
 * and by how much", for a scale {@code s = target length / L}:
 * <ul>
 *   <li>{@link Linear}: all pairs by {@code s} (position interpolation);</li>
 *   <li>{@link Ntk} and {@link DynamicNtk}: a larger base, so fast pairs keep almost their speed
 *       and slow ones are interpolated;</li>
 *   <li>{@link Yarn}: fast pairs unchanged, slow ones divided by {@code s}, a linear ramp between,
 *       and a temperature on the logits;</li>
 *   <li>{@link Llama3}: the same three bands, defined by wavelength, as Meta ships for Llama 3.1;</li>
 *   <li>{@link TruncatedBasis}: fast pairs kept, a middle band pinned to one frequency, the
 *       slowest not rotated at all.</li>
 * </ul>
 * A config holds one rescaling; {@link Rope} turns it into per-pair arithmetic, in ggml's float
 * order where ggml implements the rescaling.
 */
public sealed interface RopeScaling {

    /** Default {@link Yarn#betaFast()}: pairs turning more than this many times over the trained length are not interpolated. */
    float YARN_BETA_FAST = 32f;
    /** Default {@link Yarn#betaSlow()}: pairs turning fewer times than this over the trained length are fully interpolated. */
    float YARN_BETA_SLOW = 1f;

    /**
     * A stable text naming the rescaling and all its parameters, part of
     * {@link RopeConfig#describe()} and so of a KV segment's identity.
     */
    String describe();

    /** The frequencies as trained. */
    record None() implements RopeScaling {
        @Override public String describe() { return "none"; }
    }

    /**
     * Position interpolation (Chen et al. 2023, "Extending Context Window of Large Language
     * Models via Positional Interpolation"): every frequency divided by {@code factor}, so
     * positions up to {@code factor·L} land on angles the model has seen. ggml's
     * {@code freq_scale = 1/factor}.
     */
    record Linear(float factor) implements RopeScaling {
        public Linear {
            positive("linear factor", factor);
        }

        @Override public String describe() { return "linear(" + factor + ")"; }
    }

    /**
     * "NTK-aware" scaling (bloc97, 2023, reddit r/LocalLLaMA): the base becomes
     * {@code base·s^(d/(d−2))}, which leaves the fastest pair unchanged and slows the slowest by
     * exactly {@code s}, spreading interpolation over the pairs instead of applying it evenly.
     * Works without fine-tuning, unlike position interpolation.
     */
    record Ntk(float factor) implements RopeScaling {
        public Ntk {
            positive("NTK factor", factor);
        }

        /** The rescaled base for {@code dims} rotated dimensions. */
        public double scaledBase(double base, int dims) {
            if (dims <= 2) throw new IllegalArgumentException("NTK scaling needs more than 2 rotated dimensions, got " + dims);
            return base * Math.pow(factor, dims / (dims - 2.0));
        }

        @Override public String describe() { return "ntk(" + factor + ")"; }
    }

    /**
     * Dynamic NTK (bloc97 / emozilla, 2023): {@link Ntk} with {@code s} recomputed from the
     * current length, {@code max(1, length / L)}, so short contexts run exactly as trained. It has
     * no fixed frequencies: {@link RopeConfig#forLength(int)} resolves it to an {@link Ntk}; an
     * unresolved one rotates as {@code s = 1}.
     */
    record DynamicNtk() implements RopeScaling {
        @Override public String describe() { return "dynamic-ntk"; }
    }

    /**
     * YaRN (Peng, Quesnelle, Fan, Shippole 2023, "YaRN: Efficient Context Window Extension of
     * Large Language Models"), exactly as ggml's {@code rope_yarn}: pairs that turn more than
     * {@code betaFast} times over {@code originalLength} keep their frequency (they already
     * generalise), pairs that turn fewer than {@code betaSlow} times are divided by
     * {@code factor}, pairs in between are mixed along a linear ramp. Interpolation flattens the
     * attention distribution, so cosine and sine are multiplied by
     * {@code mscale = attnFactor·(1 + 0.1·ln factor)}, which scales the logits {@code q·k} by
     * {@code mscale²}.
     *
     * @param originalLength the length the ramp is measured against ({@code rope.scaling.original_context_length})
     * @param attnFactor     an extra factor on the magnitude ({@code rope.scaling.attn_factor}), normally 1
     */
    record Yarn(float factor, int originalLength, float betaFast, float betaSlow, float attnFactor) implements RopeScaling {
        public Yarn {
            positive("YaRN factor", factor);
            if (originalLength <= 0) throw new IllegalArgumentException("YaRN original length must be positive, got " + originalLength);
            positive("YaRN beta_fast", betaFast);
            positive("YaRN beta_slow", betaSlow);
            positive("YaRN attention factor", attnFactor);
        }

        /** With ggml's defaults: {@code betaFast} 32, {@code betaSlow} 1, {@code attnFactor} 1. */
        public Yarn(float factor, int originalLength) {
            this(factor, originalLength, YARN_BETA_FAST, YARN_BETA_SLOW, 1f);
        }

        @Override public String describe() {
            return "yarn(" + factor + "," + originalLength + "," + betaFast + "," + betaSlow + "," + attnFactor + ")";
        }
    }

    /**
     * Llama 3.1's rule (Meta, 2024, {@code apply_scaling} in the reference code; Hugging Face's
     * {@code _compute_llama3_parameters}): with {@code wavelen = 2π/θ}, wavelengths shorter than
     * {@code originalLength/highFreqFactor} keep their frequency, longer than
     * {@code originalLength/lowFreqFactor} are divided by {@code factor}, and in between
     * {@code θ' = (1−smooth)·θ/factor + smooth·θ} with
     * {@code smooth = (originalLength/wavelen − lowFreqFactor)/(highFreqFactor − lowFreqFactor)}.
     * llama.cpp's converter writes the same rule as the {@code rope_freqs.weight} divisors;
     * {@link Rope} applies it the same way, on top of any divisors the file already has.
     */
    record Llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalLength) implements RopeScaling {
        public Llama3 {
            positive("Llama 3 factor", factor);
            positive("Llama 3 low_freq_factor", lowFreqFactor);
            if (!(highFreqFactor > lowFreqFactor) || !Float.isFinite(highFreqFactor)) {
                throw new IllegalArgumentException("Llama 3 high_freq_factor (" + highFreqFactor + ") must exceed low_freq_factor (" + lowFreqFactor + ")");
            }
            if (originalLength <= 0) throw new IllegalArgumentException("Llama 3 original length must be positive, got " + originalLength);
        }

        /** The divisor of frequency {@code theta}: {@code theta / θ'}. */
        public double divisor(double theta) {
            double wavelen = 2 * Math.PI / theta;
            if (wavelen < originalLength / (double) highFreqFactor) return 1;
            if (wavelen > originalLength / (double) lowFreqFactor) return factor;
            double smooth = (originalLength / wavelen - lowFreqFactor) / ((double) highFreqFactor - lowFreqFactor);
            return 1 / ((1 - smooth) / factor + smooth);
        }

        @Override public String describe() {
            return "llama3(" + factor + "," + lowFreqFactor + "," + highFreqFactor + "," + originalLength + ")";
        }
    }

    /**
     * The truncated basis of Pal et al. 2023 ("Giraffe: Adventures in Expanding Context Lengths
     * in LLMs"): frequencies {@code θ ≥ b} are kept (they resolve local order), those in
     * {@code [a, b)} are all set to {@code rho} (a shared, small frequency the model can learn to
     * use at any length), and those below {@code a} are set to 0, so those pairs are not rotated
     * at all and never leave the range seen in training.
     */
    record TruncatedBasis(float a, float b, float rho) implements RopeScaling {
        public TruncatedBasis {
            if (!(a >= 0) || !(b >= a) || !Float.isFinite(b)) throw new IllegalArgumentException("truncated basis needs 0 <= a <= b, got a=" + a + " b=" + b);
            if (!(rho >= 0) || !Float.isFinite(rho)) throw new IllegalArgumentException("truncated basis rho must be non-negative, got " + rho);
        }

        /** The frequency that replaces {@code theta}. */
        public double apply(double theta) {
            if (theta >= b) return theta;
            return theta >= a ? rho : 0;
        }

        @Override public String describe() { return "truncated(" + a + "," + b + "," + rho + ")"; }
    }

    private static void positive(String what, float v) {
        if (!(v > 0) || !Float.isFinite(v)) throw new IllegalArgumentException(what + " must be positive and finite, got " + v);
    }
}
