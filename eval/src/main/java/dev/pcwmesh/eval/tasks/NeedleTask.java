package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;

/** One fact at the depth among distractor facts of other kinds, spread at random (about one per 64 tokens). */
public final class NeedleTask implements Task {
    @Override public TaskKind kind() { return TaskKind.NEEDLE; }

    @Override public Needles needles(Language language, Draws draws, double depth, int targetTokens) {
        DemoFacts.Asked needle = language.needle(draws);
        List<Needles.Placed> distractors = new ArrayList<>();
        for (int i = Task.scaled(targetTokens, 64, 3); i > 0; i--) {
            distractors.add(new Needles.Placed(language.distractor(draws), draws.rng().nextDouble()));
        }
        return new Needles(List.of(new Needles.Placed(needle.fact(), depth)), distractors, needle.question());
    }
}
