package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.Model;

import java.util.List;
import java.util.stream.IntStream;

/**
 * Parallel Context Windows (Ratner et al., 2023). The shared prefix is encoded once; each window
 * is encoded attending to the prefix, at positions starting right after it, so all windows share
 * one position range and no position exceeds prefix + longest window. The question and answer
 * start after the longest window and attend to the prefix, every window, and causally to
 * themselves; windows never attend to each other.
 *
 * <p>With {@link WindowAttention#ape} the new tokens' attention to the windows gets Adaptive
 * Parallel Encoding's temperature and scale.
 */
public final class ParallelWindows implements Strategy {
    private final WindowAttention rule;

    public ParallelWindows() {
        this(WindowAttention.plain());
    }

    public ParallelWindows(WindowAttention rule) {
        this.rule = rule;
    }

    @Override public String name() { return "parallel"; }

    @Override
    public ContextPlan plan(Document document, int[] question, PlanRequest request) {
        return place(document, IntStream.range(0, document.windows().size()).boxed().toList(), question, request, rule).build();
    }

    /**
     * The parallel plan over the windows numbered {@code chosen} (in that order) under
     * {@code rule}, with the encoding it took counted as the plan's cost, ready to build.
     */
    static ContextPlan.Builder place(Document document, List<Integer> chosen, int[] question, PlanRequest request, WindowAttention rule) {
        Model model = request.model();
        SegmentSource segments = request.segments();
        long tokensBefore = segments.tokensEncoded(), scoresBefore = segments.scoresComputed();
        int[] prefixTokens = document.prefix();
        int longest = chosen.stream().mapToInt(i -> document.windows().get(i).length).max().orElse(0);
        int start = prefixTokens.length;
        PositionEncoding positions = request.positions().forLength(start + longest + question.length + request.answerTokens());

        ContextPlan afterPrefix = segments.encodePrefix(model, positions, prefixTokens);
        ContextPlan.Builder plan = ContextPlan.builder(model, positions).windowAttention(rule).placeAll(afterPrefix);
        int kept = 0;
        for (int i : chosen) {
            int[] window = document.windows().get(i);
            plan.place(segments.encode(positions, window, start, afterPrefix), start, ContextPlan.Role.WINDOW);
            kept += window.length;
        }
        return plan.nextPosition(start + longest)
                .encoded(segments.tokensEncoded() - tokensBefore, segments.scoresComputed() - scoresBefore)
                .dropped(document.tokens() - kept);
    }
}
