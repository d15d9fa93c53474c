package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;

/**
 * One key with four values (RULER's multi-value needle): the first at the depth, the others at
 * random; two other keys with a value each as distractors. Every value must be in the answer.
 */
public final class MultiValueTask implements Task {
    static final int VALUES = 4;

    @Override public TaskKind kind() { return TaskKind.MULTI_VALUE; }

    @Override public Needles needles(Language language, Draws draws, double depth, int targetTokens) {
        String key = language.key(draws);
        List<Needles.Placed> facts = new ArrayList<>();
        for (int i = 0; i < VALUES; i++) {
            String value = language.value(draws);
            facts.add(new Needles.Placed(new Fact(language.keyValue(key, value), value), i == 0 ? depth : draws.rng().nextDouble()));
        }
        List<Needles.Placed> distractors = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            distractors.add(new Needles.Placed(Fact.distractor(language.keyValue(language.key(draws), language.value(draws))), draws.rng().nextDouble()));
        }
        return new Needles(facts, distractors, language.askAllValues(key));
    }
}
