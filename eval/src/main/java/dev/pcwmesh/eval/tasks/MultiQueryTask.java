package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;

/**
 * Several keys asked at once (RULER's multi-query needle): three keys, the first one's fact at the
 * depth and the others at random, among two distractor keys. Every value must be in the answer.
 */
public final class MultiQueryTask implements Task {
    static final int ASKED = 3;

    @Override public TaskKind kind() { return TaskKind.MULTI_QUERY; }

    @Override public Needles needles(Language language, Draws draws, double depth, int targetTokens) {
        List<String> keys = new ArrayList<>();
        List<Needles.Placed> facts = new ArrayList<>();
        for (int i = 0; i < ASKED; i++) {
            String key = language.key(draws), value = language.value(draws);
            keys.add(key);
            facts.add(new Needles.Placed(new Fact(language.keyValue(key, value), value), i == 0 ? depth : draws.rng().nextDouble()));
        }
        List<Needles.Placed> distractors = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            distractors.add(new Needles.Placed(Fact.distractor(language.keyValue(language.key(draws), language.value(draws))), draws.rng().nextDouble()));
        }
        return new Needles(facts, distractors, language.askValues(keys));
    }
}
