package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The demo model's corpus: facts like "The code of Hoane is TN-8087." among filler prose, and the
 * prompt {@code {document}\n\nQuestion: {question}\nAnswer:} followed by the fact's sentence up to
 * the answer (the model answers by restating the fact), the answer expected as " {answer}.\n". Keys are places and values are codes, the relation the model knows best for
 * lookups; questions about several values are the same kind of sentence the model has not seen.
 */
public final class DemoLanguage implements Language {

    @Override public String instruction(TaskKind task) { return ""; }

    @Override public String filler(Random rng, TaskKind task) { return FillerProse.sentence(rng); }

    @Override public String prompt(Question question) {
        return "\n\nQuestion: " + question.text() + "\nAnswer:" + question.answerLead();
    }

    @Override public DemoFacts.Asked passkey(Draws draws) { return DemoFacts.code(draws.place(), draws.code()); }

    @Override public DemoFacts.Asked needle(Draws draws) { return DemoFacts.any(draws); }

    @Override public Fact distractor(Draws draws) { return Fact.distractor(DemoFacts.any(draws).fact().sentence()); }

    @Override public String key(Draws draws) { return draws.place(); }

    @Override public String value(Draws draws) { return draws.code(); }

    @Override public String keyValue(String key, String value) { return DemoFacts.codeSentence(key, value); }

    @Override public Question askValue(String key) { return new Question(DemoFacts.codeQuestion(key), " The code of " + key + " is"); }

    @Override public Question askAllValues(String key) { return Question.plain("What are all the codes of " + key + "?"); }

    @Override public Question askValues(List<String> keys) { return Question.plain("What are the codes of " + Language.list(keys) + "?"); }

    /** "The code of A is TN-8087." then "The code of B is the same as the code of A." ...; asks for the last place's code. */
    @Override public Needles chain(Draws draws, int links, List<Double> depths) {
        List<Needles.Placed> facts = new ArrayList<>();
        String value = draws.code();
        String previous = draws.place();
        facts.add(new Needles.Placed(new Fact(DemoFacts.codeSentence(previous, value), value), depths.getFirst()));
        for (int i = 1; i < links; i++) {
            String next = draws.place();
            facts.add(new Needles.Placed(Fact.distractor("The code of " + next + " is the same as the code of " + previous + "."), depths.get(i)));
            previous = next;
        }
        return new Needles(facts, askValue(previous));
    }
}
