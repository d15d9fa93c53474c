package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each rescaling's frequencies against its formula, computed here independently in double, on
 * stories260K's rotary settings (read from the file); rotations stay rotations; a rescaling that
 * does nothing (s = 1) rotates bit for bit like none; YaRN settings survive a GGUF round trip.
 */
class RopeScalingTest {
    static RopeConfig plain;
    static int d;
    static double base;
    static int trained;

    @TempDir Path dir;

    @BeforeAll
    static void readStories() {
        try (GgufFile f = GgufFile.open(TestModels.shared(Stories260K.FILE))) {
            plain = ModelConfig.fromGguf(f).rope();
        }
        assertEquals(new RopeScaling.None(), plain.scaling(), "stories260K is stored without a rescaling");
        d = plain.dims();
        base = plain.base();
        trained = plain.trainedLength();
    }

    /** θ_i = base^(−2i/d). */
    static double theta(int i) {
        return Math.pow(base, -2.0 * i / d);
    }

    static float[] frequencies(RopeScaling scaling) {
        return new Rope(plain.withScaling(scaling)).frequencies();
    }

    static void assertFrequencies(IntToDoubleFunction expected, float[] actual, String what) {
        assertEquals(d / 2, actual.length, what);
        for (int i = 0; i < actual.length; i++) {
            double e = expected.applyAsDouble(i);
            if (e == 0) {
                assertEquals(0f, actual[i], what + ": pair " + i);
            } else {
                assertEquals(e, actual[i], 1e-6 * Math.abs(e), what + ": pair " + i);
            }
        }
    }

    @Test
    void noneIsTheUnscaledFrequencies() {
        assertFrequencies(RopeScalingTest::theta, frequencies(new RopeScaling.None()), "none");
        assertEquals(1f, new Rope(plain).mscale());
    }

    @ParameterizedTest
    @ValueSource(floats = {2, 4, 8})
    void linearDividesEveryFrequency(float s) {
        assertFrequencies(i -> theta(i) / s, frequencies(new RopeScaling.Linear(s)), "linear " + s);
    }

    @ParameterizedTest
    @ValueSource(floats = {2, 4, 8})
    void ntkRaisesTheBase(float s) {
        double scaledBase = base * Math.pow(s, d / (d - 2.0));
        float[] f = frequencies(new RopeScaling.Ntk(s));
        assertFrequencies(i -> Math.pow(scaledBase, -2.0 * i / d), f, "ntk " + s);
        assertEquals(theta(0), f[0], 1e-6, "the fastest pair keeps its frequency");
        assertEquals(theta(d / 2 - 1) / s, f[d / 2 - 1], 1e-6 * theta(d / 2 - 1), "the slowest pair is slowed by about s");
    }

    @ParameterizedTest
    @ValueSource(floats = {2, 4, 8})
    void dynamicNtkResolvesToNtkOfTheLength(float s) {
        RopeConfig dynamic = plain.withScaling(new RopeScaling.DynamicNtk());
        RopeConfig resolved = dynamic.forLength(Math.round(s * trained));
        assertEquals(new RopeScaling.Ntk(s), resolved.scaling());
        double scaledBase = base * Math.pow(s, d / (d - 2.0));
        assertFrequencies(i -> Math.pow(scaledBase, -2.0 * i / d), new Rope(resolved).frequencies(), "dynamic ntk " + s);
    }

    @Test
    void forLengthResolvesOnlyDynamicNtk() {
        RopeConfig dynamic = plain.withScaling(new RopeScaling.DynamicNtk());
        assertEquals(new RopeScaling.Ntk(1f), dynamic.forLength(1).scaling());
        assertEquals(new RopeScaling.Ntk(1f), dynamic.forLength(trained / 2).scaling());
        assertEquals(new RopeScaling.Ntk(1f), dynamic.forLength(trained).scaling());
        assertEquals(new RopeScaling.Ntk((float) (trained + trained / 2) / trained), dynamic.forLength(trained + trained / 2).scaling());
        assertEquals(new RopeScaling.Ntk(3f), dynamic.forLength(3 * trained).scaling());
        assertEquals(plain.trainedLength(), dynamic.forLength(3 * trained).trainedLength());
        for (RopeScaling fixed : List.of(new RopeScaling.None(), new RopeScaling.Linear(2), new RopeScaling.Ntk(2),
                new RopeScaling.Yarn(2, trained), new RopeScaling.Llama3(2, 1, 4, trained), new RopeScaling.TruncatedBasis(0.01f, 0.1f, 0.05f))) {
            RopeConfig c = plain.withScaling(fixed);
            assertSame(c, c.forLength(10 * trained), fixed.describe());
        }
    }

    /** ggml_rope_yarn_corr_dims and rope_yarn, in double. */
    static double yarnTheta(int i, double s, int originalLength, double betaFast, double betaSlow) {
        double low = Math.max(0, Math.floor(d * Math.log(originalLength / (betaFast * 2 * Math.PI)) / (2 * Math.log(base))));
        double high = Math.min(d - 1, Math.ceil(d * Math.log(originalLength / (betaSlow * 2 * Math.PI)) / (2 * Math.log(base))));
        double y = (i - low) / Math.max(0.001, high - low);
        double mix = 1 - Math.min(1, Math.max(0, y));
        double extrap = theta(i);
        double interp = extrap / s;
        return interp * (1 - mix) + extrap * mix;
    }

    @ParameterizedTest
    @ValueSource(floats = {2, 4, 8})
    void yarnMixesInterpolationAndExtrapolationAlongTheRamp(float s) {
        float[] f = frequencies(new RopeScaling.Yarn(s, trained));
        assertFrequencies(i -> yarnTheta(i, s, trained, 32, 1), f, "yarn " + s);
        // On stories260K's settings the ramp has all three parts: kept, mixed, interpolated.
        assertEquals(theta(0), f[0], 1e-6);
        assertEquals(theta(d / 2 - 1) / s, f[d / 2 - 1], 1e-6 * theta(d / 2 - 1));
        boolean mixed = false;
        for (int i = 0; i < f.length; i++) mixed |= Math.abs(f[i] - theta(i)) > 1e-6 * theta(i) && Math.abs(f[i] - theta(i) / s) > 1e-6 * theta(i);
        assertTrue(mixed, "some pair should lie on the ramp");

        float[] g = frequencies(new RopeScaling.Yarn(s, trained / 4, 16, 2, 1));
        assertFrequencies(i -> yarnTheta(i, s, trained / 4, 16, 2), g, "yarn " + s + " with other betas and length");
    }

    @ParameterizedTest
    @ValueSource(floats = {2, 4, 8})
    void yarnScalesTheLogitsByMscaleSquared(float s) {
        Rope yarn = new Rope(plain.withScaling(new RopeScaling.Yarn(s, trained)));
        double mscale = 1 + 0.1 * Math.log(s);
        assertEquals(mscale, yarn.mscale(), 1e-6 * mscale);
        assertEquals(0.5 * mscale, new Rope(plain.withScaling(new RopeScaling.Yarn(s, trained, 32, 1, 0.5f))).mscale(), 1e-6 * mscale);

        // The same frequencies at unit magnitude: attnFactor cancels the temperature.
        Rope unit = new Rope(plain.withScaling(new RopeScaling.Yarn(s, trained, 32, 1, (float) (1 / mscale))));
        assertArrayEquals(yarn.frequencies(), unit.frequencies());
        assertEquals(1.0, unit.mscale(), 1e-6);
        SplittableRandom r = new SplittableRandom(7);
        float[] q = random(r, d), k = random(r, d);
        float[] q1 = q.clone(), k1 = k.clone(), q2 = q.clone(), k2 = k.clone();
        yarn.rotate(q1, 0, 1, d, 900);
        yarn.rotate(k1, 0, 1, d, 123);
        unit.rotate(q2, 0, 1, d, 900);
        unit.rotate(k2, 0, 1, d, 123);
        double scaled = dot(q1, k1), unitDot = dot(q2, k2);
        assertEquals(mscale * mscale * unitDot, scaled, 1e-5 * Math.abs(scaled));
    }

    /** Meta's apply_scaling, in double. */
    static double llama3Theta(int i, double s, double low, double high, int originalLength) {
        double freq = theta(i);
        double wavelen = 2 * Math.PI / freq;
        if (wavelen < originalLength / high) return freq;
        if (wavelen > originalLength / low) return freq / s;
        double smooth = (originalLength / wavelen - low) / (high - low);
        return (1 - smooth) * freq / s + smooth * freq;
    }

    @ParameterizedTest
    @ValueSource(floats = {2, 4, 8})
    void llama3ScalesByWavelength(float s) {
        // Factors that put stories260K's pairs in all three bands (checked below).
        float low = 1, high = 32;
        float[] f = frequencies(new RopeScaling.Llama3(s, low, high, trained));
        assertFrequencies(i -> llama3Theta(i, s, low, high, trained), f, "llama3 " + s);
        int kept = 0, divided = 0, smoothed = 0;
        for (int i = 0; i < d / 2; i++) {
            double wavelen = 2 * Math.PI / theta(i);
            if (wavelen < trained / high) kept++;
            else if (wavelen > trained / low) divided++;
            else smoothed++;
        }
        assertTrue(kept > 0 && divided > 0 && smoothed > 0, "bands: " + kept + " kept, " + smoothed + " smoothed, " + divided + " divided");
    }

    @Test
    void llama3OnTopOfFileDivisorsMultipliesThem() {
        float[] two = new float[d / 2];
        Arrays.fill(two, 2f);
        RopeConfig withFile = new RopeConfig(plain.layout(), d, plain.base(), trained, new RopeScaling.Llama3(4, 1, 32, trained), two);
        float[] f = new Rope(withFile).frequencies();
        for (int i = 0; i < d / 2; i++) {
            double fileTheta = theta(i) / 2;
            double wavelen = 2 * Math.PI / fileTheta;
            double expected = wavelen < trained / 32.0 ? fileTheta : wavelen > trained ? fileTheta / 4
                    : (1 - (trained / wavelen - 1) / 31) * fileTheta / 4 + (trained / wavelen - 1) / 31 * fileTheta;
            assertEquals(expected, f[i], 1e-6 * expected, "pair " + i);
        }
    }

    @Test
    void truncatedBasisKeepsPinsAndDrops() {
        // Thresholds between stories260K's frequencies, so each rule applies to some pair.
        float b = (float) Math.sqrt(theta(0) * theta(1));
        float a = (float) Math.sqrt(theta(d / 2 - 2) * theta(d / 2 - 1));
        float rho = (float) theta(d / 2 - 1) * 3;
        float[] f = frequencies(new RopeScaling.TruncatedBasis(a, b, rho));
        assertFrequencies(i -> theta(i) >= b ? theta(i) : theta(i) >= a ? rho : 0, f, "truncated basis");
        assertEquals(0f, f[d / 2 - 1], "below a: not rotated");

        // A dropped pair is not rotated at any position.
        Rope rope = new Rope(plain.withScaling(new RopeScaling.TruncatedBasis(a, b, rho)));
        float[] x = random(new SplittableRandom(3), d);
        float[] y = x.clone();
        rope.rotate(y, 0, 1, d, 12345);
        assertEquals(x[d - 2], y[d - 2]);
        assertEquals(x[d - 1], y[d - 1]);
    }

    /** Rescalings that change nothing. */
    static List<RopeScaling> identities() {
        return List.of(
                new RopeScaling.Linear(1),
                new RopeScaling.Ntk(1),
                new RopeScaling.DynamicNtk(),
                plain.withScaling(new RopeScaling.DynamicNtk()).forLength(trained / 2).scaling(),
                new RopeScaling.Yarn(1, trained),
                new RopeScaling.Llama3(1, 1, 32, trained),
                new RopeScaling.TruncatedBasis(0, 0, 0));
    }

    @Test
    void everyRescalingAtScaleOneRotatesExactlyLikeNone() {
        Rope none = new Rope(plain);
        SplittableRandom r = new SplittableRandom(11);
        for (RopeScaling s : identities()) {
            Rope rope = new Rope(plain.withScaling(s));
            assertArrayEquals(none.frequencies(), rope.frequencies(), s.describe());
            assertEquals(1f, rope.mscale(), s.describe());
            for (int p : new int[]{0, 1, 5, 100, trained - 1, trained, 5 * trained + 3}) {
                float[] x = random(r, 3 * d);
                float[] a = x.clone(), b = x.clone();
                none.rotate(a, 0, 3, d, p);
                rope.rotate(b, 0, 3, d, p);
                assertArrayEquals(a, b, s.describe() + " at " + p);
            }
        }
    }

    /** ggml's CPU rope without YaRN (ext_factor 0), as Rope computed it before rescalings: the reference for bit-identity. */
    static void ggmlRotate(float[] x, int heads, int dims, float base, float freqScale, float[] ff, int position) {
        float thetaScale = (float) Math.pow(base, -2.0 / dims);
        float theta = position;
        for (int i = 0; i < dims / 2; i++) {
            float angle = freqScale * (ff == null ? theta : theta / ff[i]);
            float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
            theta *= thetaScale;
            for (int h = 0; h < heads; h++) {
                int a = h * dims + 2 * i;
                float x0 = x[a], x1 = x[a + 1];
                x[a] = x0 * cos - x1 * sin;
                x[a + 1] = x0 * sin + x1 * cos;
            }
        }
    }

    @Test
    void noneLinearAndFileDivisorsKeepGgmlsArithmeticBitForBit() {
        float[] ff = {1, 1.25f, 3, 7.5f, 1, 1, 1, 1};
        SplittableRandom r = new SplittableRandom(13);
        for (float[] factors : new float[][]{null, Arrays.copyOf(ff, d / 2)}) {
            for (float s : new float[]{1, 2, 4, 8, 3.7f}) {
                RopeConfig c = new RopeConfig(RopeLayout.NORMAL, d, plain.base(), trained,
                        s == 1 ? new RopeScaling.None() : new RopeScaling.Linear(s), factors);
                Rope rope = new Rope(c);
                for (int p : new int[]{0, 1, 9, 511, 2048, 31_999}) {
                    float[] x = random(r, 2 * d);
                    float[] expected = x.clone();
                    ggmlRotate(expected, 2, d, plain.base(), 1f / s, factors, p);
                    rope.rotate(x, 0, 2, d, p);
                    assertArrayEquals(expected, x, c.describe() + " at " + p);
                }
            }
        }
    }

    /** All rescalings at some non-trivial setting, and the file divisors, on both layouts. */
    static List<RopeConfig> configs() {
        float[] factors = {1, 1.5f, 2, 8, 1, 1, 1, 1};
        List<RopeConfig> out = new ArrayList<>();
        for (RopeLayout layout : RopeLayout.values()) {
            RopeConfig c = new RopeConfig(layout, d, plain.base(), trained, new RopeScaling.None(), null);
            for (RopeScaling s : List.of(new RopeScaling.None(), new RopeScaling.Linear(4), new RopeScaling.Ntk(4),
                    new RopeScaling.Yarn(4, trained), new RopeScaling.Yarn(8, trained / 2, 16, 2, 0.8f), new RopeScaling.Llama3(8, 1, 32, trained),
                    new RopeScaling.TruncatedBasis((float) theta(d / 2 - 1) * 2, (float) theta(1) / 2, 0.001f))) {
                out.add(c.withScaling(s));
            }
            out.add(new RopeConfig(layout, d, plain.base(), trained, new RopeScaling.None(), Arrays.copyOf(factors, d / 2)));
        }
        return out;
    }

    @Test
    void intAndFloatPositionsAgreeAtIntegers() {
        SplittableRandom r = new SplittableRandom(5);
        for (RopeConfig c : configs()) {
            Rope rope = new Rope(c);
            for (int p : new int[]{0, 1, 2, 17, 1000, 4095, 65_537, -3}) {
                float[] x = random(r, 2 * d);
                float[] a = x.clone(), b = x.clone();
                rope.rotate(a, 0, 2, d, p);
                rope.rotate(b, 0, 2, d, (float) p);
                assertArrayEquals(a, b, c.describe() + " at " + p);
            }
        }
    }

    @Test
    void rotatingBackByTheSamePositionGivesTheInput() {
        SplittableRandom r = new SplittableRandom(9);
        for (RopeConfig c : configs()) {
            Rope rope = new Rope(c);
            double m2 = (double) rope.mscale() * rope.mscale();
            for (float p : new float[]{1, 7.5f, 100.25f, 2047, 3000.5f}) {
                float[] x = random(r, 2 * d);
                float[] y = x.clone();
                rope.rotate(y, 0, 2, d, p);
                assertEquals(Math.sqrt(m2) * norm(x), norm(y), 1e-5 * norm(x), c.describe() + ": length changes only by mscale");
                rope.rotate(y, 0, 2, d, -p);
                for (int j = 0; j < x.length; j++) {
                    assertEquals(x[j], y[j] / m2, 1e-5 * norm(x), c.describe() + " at " + p + ", value " + j);
                }
            }
        }
    }

    @Test
    void fractionalPositionsLieBetweenIntegers() {
        Rope rope = new Rope(plain);
        float[] f = rope.frequencies();
        float[] x = new float[d];
        for (int i = 0; i < d; i += 2) x[i] = 1;
        rope.rotate(x, 0, 1, d, 2.5f);
        for (int i = 0; i < d / 2; i++) {
            assertEquals(Math.cos(2.5 * f[i]), x[2 * i], 1e-6);
            assertEquals(Math.sin(2.5 * f[i]), x[2 * i + 1], 1e-6);
        }
    }

    @Test
    void yarnMetadataIsRead() {
        Path full = RopeConfigTest.variant(dir, "yarn-full", w -> w
                .putString("llama.rope.scaling.type", "yarn")
                .putFloat32("llama.rope.scaling.factor", 4f)
                .putUint32("llama.rope.scaling.original_context_length", 512)
                .putFloat32("llama.rope.scaling.attn_factor", 0.75f)
                .putFloat32("llama.rope.scaling.yarn_beta_fast", 16f)
                .putFloat32("llama.rope.scaling.yarn_beta_slow", 2f));
        try (Model m = Model.load(full)) {
            RopeConfig c = m.config().rope();
            assertEquals(new RopeScaling.Yarn(4f, 512, 16f, 2f, 0.75f), c.scaling());
            assertEquals(trained, c.trainedLength());
            assertEquals(0.75 * (1 + 0.1 * Math.log(4)), m.rope().mscale(), 1e-6);
            assertArrayEquals(new Rope(plain.withScaling(c.scaling())).frequencies(), m.rope().frequencies());
        }

        Path defaults = RopeConfigTest.variant(dir, "yarn-defaults", w -> w
                .putString("llama.rope.scaling.type", "yarn")
                .putFloat32("llama.rope.scaling.factor", 2f));
        try (Model m = Model.load(defaults)) {
            assertEquals(new RopeScaling.Yarn(2f, trained, 32f, 1f, 1f), m.config().rope().scaling());
        }
    }

    @Test
    void describeDiffersBetweenScalingsAndParameters() {
        List<RopeScaling> all = List.of(
                new RopeScaling.None(), new RopeScaling.Linear(2), new RopeScaling.Linear(4),
                new RopeScaling.Ntk(2), new RopeScaling.Ntk(4), new RopeScaling.DynamicNtk(),
                new RopeScaling.Yarn(2, trained), new RopeScaling.Yarn(4, trained), new RopeScaling.Yarn(2, trained / 2),
                new RopeScaling.Yarn(2, trained, 16, 1, 1), new RopeScaling.Yarn(2, trained, 32, 2, 1), new RopeScaling.Yarn(2, trained, 32, 1, 0.5f),
                new RopeScaling.Llama3(8, 1, 4, trained), new RopeScaling.Llama3(4, 1, 4, trained), new RopeScaling.Llama3(8, 2, 4, trained),
                new RopeScaling.Llama3(8, 1, 8, trained), new RopeScaling.Llama3(8, 1, 4, trained / 2),
                new RopeScaling.TruncatedBasis(0.01f, 0.1f, 0.05f), new RopeScaling.TruncatedBasis(0.02f, 0.1f, 0.05f),
                new RopeScaling.TruncatedBasis(0.01f, 0.2f, 0.05f), new RopeScaling.TruncatedBasis(0.01f, 0.1f, 0.06f));
        HashSet<String> seen = new HashSet<>();
        for (RopeScaling s : all) assertTrue(seen.add(plain.withScaling(s).describe()), "duplicate description for " + s);
        // Settings that existed before rescalings keep their description (stored segment ids stay valid).
        assertEquals(plain.layout() + ":" + d + ":" + plain.base() + ":1.0", plain.describe());
        assertEquals(plain.layout() + ":" + d + ":" + plain.base() + ":2.0", plain.withScaling(new RopeScaling.Linear(2)).describe());
        assertNotEquals(plain.describe(), plain.withScaling(new RopeScaling.Ntk(1)).describe());
    }

    static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    static double norm(float[] x) {
        return Math.sqrt(dot(x, x));
    }
}
