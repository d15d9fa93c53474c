package dev.pcwmesh.eval.tasks;

import java.util.List;

/**
 * What one sample hides in its document and asks about: facts at depths (0 = the start of the
 * document, 1 = its end), distractors, and the question. The expected answers are the facts'
 * answers, in the order of the list. Facts are what the question needs (the asked fact, every link
 * of a chain); distractors only make it harder, and a short document keeps only as many as leave
 * room for filler.
 */
public record Needles(List<Placed> facts, List<Placed> distractors, Question question) {

    /** A fact and where it goes. */
    public record Placed(Fact fact, double depth) {
        public Placed {
            if (!(depth >= 0 && depth <= 1)) throw new IllegalArgumentException("depth must be in [0, 1], got " + depth);
        }
    }

    public Needles {
        facts = List.copyOf(facts);
        distractors = List.copyOf(distractors);
        for (Placed d : distractors) if (d.fact().answer() != null) throw new IllegalArgumentException("a distractor carries an answer: " + d);
        if (facts.stream().noneMatch(p -> p.fact().answer() != null)) throw new IllegalArgumentException("no fact carries an answer");
    }

    /** Facts without distractors. */
    public Needles(List<Placed> facts, Question question) {
        this(facts, List.of(), question);
    }

    public List<String> answers() {
        return facts.stream().map(p -> p.fact().answer()).filter(a -> a != null).toList();
    }
}
