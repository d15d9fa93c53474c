package dev.pcwmesh.runtime.model;

/**
 * Rotates query and key heads by their position. Angles are computed in double from the
 * inverse frequencies, so a key rotated to position q directly equals one rotated later from
 * its unrotated form (what placing a KV segment relies on).
 */
public final class Rope {
    private final RopeLayout layout;
    private final int dims;
    private final double[] inverseFrequencies;

    public Rope(RopeConfig config) {
        this.layout = config.layout();
        this.dims = config.dims();
        this.inverseFrequencies = config.inverseFrequencies();
    }

    /**
     * Rotates {@code heads} consecutive heads of {@code headDim} values in {@code x[off..]} to
     * {@code position}.
     */
    public void rotate(float[] x, int off, int heads, int headDim, int position) {
        int half = dims / 2;
        for (int i = 0; i < half; i++) {
            double angle = position * inverseFrequencies[i];
            float cos = (float) Math.cos(angle);
            float sin = (float) Math.sin(angle);
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
