package dev.pcwmesh.runtime.model;

/**
 * Rotates query and key heads by their position, with ggml's arithmetic: the angle of pair
 * {@code i} is built in float as {@code position * thetaScale^i} by repeated multiplication,
 * divided by the pair's frequency factor and multiplied by the linear frequency scale, and its
 * cosine and sine are rounded to float. Matching that order matters: at positions in the
 * thousands the float angle differs visibly from an exact one, and llama.cpp is the reference.
 *
 * <p>The same function rotates keys at encode time and when a plan places a stored segment, so a
 * key rotated late equals one rotated early, bit for bit.
 */
public final class Rope {
    private final RopeLayout layout;
    private final int dims;
    private final float thetaScale;
    private final float freqScale;
    private final float[] freqFactors;

    public Rope(RopeConfig config) {
        this.layout = config.layout();
        this.dims = config.dims();
        this.thetaScale = (float) Math.pow(config.base(), -2.0 / config.dims());
        this.freqScale = 1f / config.linearScale();
        this.freqFactors = config.freqFactors();
    }

    /**
     * Rotates {@code heads} consecutive heads of {@code headDim} values in {@code x[off..]} to
     * {@code position}. Only the first {@code dims} values of each head are rotated.
     */
    public void rotate(float[] x, int off, int heads, int headDim, int position) {
        int half = dims / 2;
        float theta = position;
        for (int i = 0; i < half; i++) {
            float angle = freqScale * (freqFactors == null ? theta : theta / freqFactors[i]);
            float cos = (float) Math.cos(angle);
            float sin = (float) Math.sin(angle);
            theta *= thetaScale;
            for (int h = 0; h < heads; h++) {
                int base = off + h * headDim;
                int a = layout == RopeLayout.NORMAL ? base + 2 * i : base + i;
                int b = layout == RopeLayout.NORMAL ? a + 1 : a + half;
                float x0 = x[a];
                float x1 = x[b];
                x[a] = x0 * cos - x1 * sin;
                x[b] = x0 * sin + x1 * cos;
            }
        }
    }
}
