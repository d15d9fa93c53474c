package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;

/**
 * Several facts of the same form with different keys (about one per 128 tokens, at least 3
 * besides the asked one), spread at random; one key is asked, its fact at the depth.
 */
public final class MultiKeyTask implements Task {
    @Override public TaskKind kind() { return TaskKind.MULTI_KEY; }

    @Override public Needles needles(Language language, Draws draws, double depth, int targetTokens) {
        String key = language.key(draws), value = language.value(draws);
        List<Needles.Placed> distractors = new ArrayList<>();
        for (int i = Task.scaled(targetTokens, 128, 3); i > 0; i--) {
            String other = language.key(draws);
            distractors.add(new Needles.Placed(Fact.distractor(language.keyValue(other, language.value(draws))), draws.rng().nextDouble()));
        }
        return new Needles(List.of(new Needles.Placed(new Fact(language.keyValue(key, value), value), depth)), distractors, language.askValue(key));
    }
}
