package dev.pcwmesh.runtime.kernel;

/** The gated feed-forward activation: {@code gate = silu(gate) * up}, with {@code silu(x) = x / (1 + e^-x)}. */
public final class SwiGlu {
    private SwiGlu() {}

    public static void apply(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        }
    }
}
