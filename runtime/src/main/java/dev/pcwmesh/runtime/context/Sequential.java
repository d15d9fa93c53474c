package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.RopeScaling;

import java.util.Arrays;

/**
 * The exact baseline: the prefix and the whole document as one causal stream, then the question.
 * When that does not fit the longest sequence the model can take, only the last document tokens
 * that fit are kept (what a plain model does), and the plan says so.
 *
 * <p>The longest sequence is the trained window, times the rescaling factor when the RoPE
 * frequencies are rescaled (position interpolation, NTK, YaRN, Llama 3); with dynamic NTK or
 * ReRoPE, which claim any length, it is unbounded unless {@code maxLength} is given.
 */
public final class Sequential implements Strategy {
    private final int maxLength;

    /** The longest sequence follows from the model and the position encoding. */
    public Sequential() {
        this(0);
    }

    /** @param maxLength the longest sequence (prefix, document, question and answer), or 0 for the default */
    public Sequential(int maxLength) {
        if (maxLength < 0) throw new IllegalArgumentException("the maximum length must be non-negative, got " + maxLength);
        this.maxLength = maxLength;
    }

    @Override public String name() { return "sequential"; }

    /** The longest sequence the plan may hold under {@code request}. */
    public int maxLength(PlanRequest request) {
        if (maxLength > 0) return maxLength;
        PositionEncoding p = request.positions();
        if (p.rerope() != null || p.rope().scaling() instanceof RopeScaling.DynamicNtk) return Integer.MAX_VALUE;
        return (int) Math.min(Integer.MAX_VALUE, (long) Math.floor(request.trainedWindow() * factor(p.rope().scaling())));
    }

    /** How far a rescaling stretches the trained window (1 for those without a factor). */
    static double factor(RopeScaling scaling) {
        return switch (scaling) {
            case RopeScaling.Linear l -> l.factor();
            case RopeScaling.Ntk n -> n.factor();
            case RopeScaling.Yarn y -> y.factor();
            case RopeScaling.Llama3 l -> l.factor();
            case RopeScaling.None n -> 1;
            case RopeScaling.DynamicNtk d -> 1;
            case RopeScaling.TruncatedBasis t -> 1;
        };
    }

    @Override
    public ContextPlan plan(Document document, int[] question, PlanRequest request) {
        SegmentSource segments = request.segments();
        long tokensBefore = segments.tokensEncoded(), scoresBefore = segments.scoresComputed();
        int[] prefixTokens = document.prefix();
        int[] stream = document.concatenated();
        long room = (long) maxLength(request) - prefixTokens.length - question.length - request.answerTokens();
        if (room < 0) {
            throw new IllegalArgumentException("the prefix, question and answer (" + (prefixTokens.length + question.length + request.answerTokens())
                    + " tokens) alone exceed the longest sequence of " + maxLength(request) + " tokens");
        }
        int kept = (int) Math.min(stream.length, room);
        int[] tail = Arrays.copyOfRange(stream, stream.length - kept, stream.length);
        int start = prefixTokens.length;
        PositionEncoding positions = request.positions().forLength(start + kept + question.length + request.answerTokens());

        ContextPlan afterPrefix = segments.encodePrefix(request.model(), positions, prefixTokens);
        ContextPlan.Builder plan = ContextPlan.builder(request.model(), positions).placeAll(afterPrefix);
        if (kept > 0) plan.place(segments.encode(positions, tail, start, afterPrefix), start, ContextPlan.Role.WINDOW);
        int dropped = stream.length - kept;
        return plan.nextPosition(start + kept)
                .encoded(segments.tokensEncoded() - tokensBefore, segments.scoresComputed() - scoresBefore)
                .dropped(dropped)
                .note(dropped == 0 ? "" : "truncated: the document has " + stream.length + " tokens, only the last " + kept
                        + " fit the longest sequence of " + maxLength(request) + " tokens")
                .build();
    }
}
