package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;

/**
 * A chain of five assignments (RULER's variable tracking, four hops): the first at the depth, the
 * others spread evenly from there to the end of the document, so a long document puts the links
 * in different windows — which parallel windows, each seeing one window, are known to miss.
 */
public final class VariableTrackingTask implements Task {
    static final int LINKS = 5;

    @Override public TaskKind kind() { return TaskKind.VARIABLE_TRACKING; }

    @Override public Needles needles(Language language, Draws draws, double depth, int targetTokens) {
        List<Double> depths = new ArrayList<>();
        for (int i = 0; i < LINKS; i++) depths.add(Math.min(1, depth + (1 - depth) * i / (LINKS - 1)));
        return language.chain(draws, LINKS, depths);
    }
}
