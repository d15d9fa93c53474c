package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Natural-language tasks in the style of NVIDIA's RULER benchmark (Hsieh et al., 2024) for
 * instruction-tuned models: an instruction before the document, "special magic numbers" as
 * key-value needles, the passkey among repeated noise, variable chains "VAR ABCDE = 12345.", and an
 * answer lead after "Answer:" so that the model's next words are the answer. Keys are held-out
 * person names of the demo corpus; distractors are its facts in plain English.
 */
public final class RulerLanguage implements Language {
    private static final String[] NOISE = {
            "The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.", "There and back again."};

    @Override public String instruction(TaskKind task) {
        return switch (task) {
            case PASSKEY -> "A lot of irrelevant text hides one important piece of information. Find it and remember it: "
                    + "you will be asked about it afterwards.\n\n";
            case VARIABLE_TRACKING -> "Remember and follow the chain of variable assignments hidden in the following text.\n\n";
            default -> "Some special magic numbers are hidden in the following text. Remember them: "
                    + "you will be asked about them afterwards.\n\n";
        };
    }

    /** The passkey hides in noise (RULER's "repeat" haystack, its sentences drawn at random); the others in prose. */
    @Override public String filler(Random rng, TaskKind task) {
        if (task == TaskKind.PASSKEY) return NOISE[rng.nextInt(NOISE.length)];
        return FillerProse.sentence(rng);
    }

    @Override public String prompt(Question question) {
        return "\n\nQuestion: " + question.text() + "\nAnswer:" + question.answerLead();
    }

    @Override public DemoFacts.Asked passkey(Draws draws) {
        String key = draws.number(5);
        return new DemoFacts.Asked(new Fact("The pass key is " + key + ". Remember it. " + key + " is the pass key.", key),
                new Question("What is the pass key?", " The pass key is"));
    }

    @Override public DemoFacts.Asked needle(Draws draws) {
        String key = key(draws);
        String value = value(draws);
        return new DemoFacts.Asked(new Fact(keyValue(key, value), value), askValue(key));
    }

    @Override public Fact distractor(Draws draws) { return Fact.distractor(DemoFacts.any(draws).fact().sentence()); }

    @Override public String key(Draws draws) { return draws.person(); }

    @Override public String value(Draws draws) { return draws.number(7); }

    @Override public String keyValue(String key, String value) {
        return "One of the special magic numbers for " + key + " is: " + value + ".";
    }

    @Override public Question askValue(String key) {
        return new Question("What is the special magic number for " + key + " mentioned in the text?",
                " The special magic number for " + key + " mentioned in the text is");
    }

    @Override public Question askAllValues(String key) {
        return new Question("What are all the special magic numbers for " + key + " mentioned in the text?",
                " The special magic numbers for " + key + " mentioned in the text are");
    }

    @Override public Question askValues(List<String> keys) {
        String who = Language.list(keys);
        return new Question("What are all the special magic numbers for " + who + " mentioned in the text?",
                " The special magic numbers for " + who + " mentioned in the text are");
    }

    /** "VAR ABCDE = 12345." then "VAR FGHIJ = VAR ABCDE." ...; asks for every variable holding the value. */
    @Override public Needles chain(Draws draws, int links, List<Double> depths) {
        List<Needles.Placed> facts = new ArrayList<>();
        String value = draws.number(5);
        String previous = draws.variable();
        facts.add(new Needles.Placed(new Fact("VAR " + previous + " = " + value + ".", previous), depths.getFirst()));
        for (int i = 1; i < links; i++) {
            String next = draws.variable();
            facts.add(new Needles.Placed(new Fact("VAR " + next + " = VAR " + previous + ".", next), depths.get(i)));
            previous = next;
        }
        return new Needles(facts, new Question("Find all variables that are assigned the value " + value + " in the text above.",
                " According to the chain of variable assignments in the text above, " + links
                        + " variables are assigned the value " + value + ", they are:"));
    }
}
