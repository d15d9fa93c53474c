package dev.pcwmesh.runtime.context;

/**
 * ReRoPE (Su, 2023): relative distances are clipped at {@code window}, so no query ever sees a
 * distance it was not trained on. Inside the window a score is the ordinary rotated q·k; beyond
 * it a second score is computed with the query rotated to a fixed distance. Leaky ReRoPE lets the
 * distance beyond the window keep growing, {@code 1/leak} per token.
 *
 * <p>Both come from two rotations of the same raw vectors: the query at
 * {@code window + (i - window)/leak} against the key at {@code j/leak} gives the distance
 * {@code window + (i - j - window)/leak}; with {@code leak} infinite the query sits at
 * {@code window} and the key at 0.
 *
 * @param window the largest distance seen as is
 * @param leak   how many tokens beyond the window count as one; {@link Float#POSITIVE_INFINITY} for plain ReRoPE
 */
public record ReRope(int window, float leak) {

    public ReRope {
        if (window < 1) throw new IllegalArgumentException("the ReRoPE window must be at least 1, got " + window);
        if (!(leak >= 1)) throw new IllegalArgumentException("the leaky ReRoPE factor must be at least 1, got " + leak);
    }

    public static ReRope clipped(int window) {
        return new ReRope(window, Float.POSITIVE_INFINITY);
    }

    public boolean leaky() { return leak != Float.POSITIVE_INFINITY; }

    /** Where a query at {@code position} is rotated for its scores beyond the window. */
    public float farQueryPosition(int position) {
        return leaky() ? position / leak + window * (1 - 1 / leak) : window;
    }

    /** Where a key at {@code position} is rotated for scores beyond the window. */
    public float farKeyPosition(int position) {
        return leaky() ? position / leak : 0;
    }

    public String describe() {
        return leaky() ? "leaky-rerope:" + window + ":" + leak : "rerope:" + window;
    }
}
