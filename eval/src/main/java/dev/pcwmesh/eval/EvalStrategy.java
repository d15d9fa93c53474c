package dev.pcwmesh.eval;

import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.model.RopeConfig;

import java.util.List;

/**
 * A column of the evaluation, by name: a context strategy ({@code parallel}, {@code select},
 * {@code sequential}, {@code lambda}, {@code tokens}) under the run's position encoding, or the
 * sequential baseline under a rescaling stretched to each document ({@code yarn}, {@code linear},
 * {@code ntk}, {@code llama3} at scale length / trained window; {@code dynamic-ntk}, {@code rerope},
 * {@code leaky-rerope}, which need no scale).
 *
 * @param strategy the context strategy's name
 * @param rope     the rescaling's name, or null for the run's own position encoding
 */
public record EvalStrategy(String name, String strategy, String rope) {
    static final List<String> STRATEGIES = List.of("parallel", "select", "sequential", "lambda", "tokens");
    static final List<String> STRETCHED = List.of("linear", "ntk", "yarn", "llama3");
    static final List<String> UNBOUNDED = List.of("dynamic-ntk", "rerope", "leaky-rerope");
    public static final String NAMES = "parallel, select, sequential, lambda, tokens, linear, ntk, yarn, llama3, dynamic-ntk, rerope, leaky-rerope";

    public static EvalStrategy byName(String name) {
        if (STRATEGIES.contains(name)) return new EvalStrategy(name, name, null);
        if (STRETCHED.contains(name) || UNBOUNDED.contains(name)) return new EvalStrategy(name, "sequential", name);
        throw new IllegalArgumentException("unknown strategy '" + name + "'; one of: " + NAMES);
    }

    /** The position encoding for a sequence of {@code length} tokens (prefix, document, question and answer). */
    public PositionEncoding positions(RopeConfig file, RopeSettings run, int trainedWindow, int length) {
        if (rope == null) return run.positions(file, trainedWindow);
        return run.with(rope, STRETCHED.contains(rope) ? stretch(length, trainedWindow) : 1f).positions(file, trainedWindow);
    }

    /** length / trained, rounded up to a float, and at least 1: the trained window times it holds the whole sequence. */
    static float stretch(int length, int trainedWindow) {
        double exact = (double) length / trainedWindow;
        float f = (float) exact;
        if (f < exact) f = Math.nextUp(f);
        return Math.max(1f, f);
    }
}
