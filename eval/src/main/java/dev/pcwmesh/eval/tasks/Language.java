package dev.pcwmesh.eval.tasks;

import java.util.List;
import java.util.Random;

/**
 * How a flavour of tasks writes its documents and questions. The tasks decide what is hidden where;
 * a language decides the words: the demo model's own corpus ({@link DemoLanguage}), or
 * RULER-style instructions for instruction-tuned models ({@link RulerLanguage}).
 */
public interface Language {

    /** Text between BOS and the document, shared by every window (empty for none). */
    String instruction(TaskKind task);

    /** A sentence that answers no question. */
    String filler(Random rng, TaskKind task);

    /** What follows the document: the question, ending where the model starts its answer. */
    String prompt(Question question);

    /** The passkey: one value to remember, asked for alone. */
    DemoFacts.Asked passkey(Draws draws);

    /** One fact with its question, of the kind the needle task hides. */
    DemoFacts.Asked needle(Draws draws);

    /** A fact of another kind than the needle, to distract from it. */
    Fact distractor(Draws draws);

    /** A new key, and a new value to give a key. */
    String key(Draws draws);

    String value(Draws draws);

    /** The sentence giving {@code key} the value {@code value}. */
    String keyValue(String key, String value);

    /** Asks for the one value of a key. */
    Question askValue(String key);

    /** Asks for every value of a key. */
    Question askAllValues(String key);

    /** Asks for the values of several keys at once. */
    Question askValues(List<String> keys);

    /**
     * A chain of assignments: the first link gives a value, each later one copies the previous
     * link's; the facts in reading order (answers set where the question asks for them), and the question.
     */
    Needles chain(Draws draws, int links, List<Double> depths);

    /** "A", "A and B", "A, B and C". */
    static String list(List<String> items) {
        if (items.size() == 1) return items.getFirst();
        return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.getLast();
    }
}
