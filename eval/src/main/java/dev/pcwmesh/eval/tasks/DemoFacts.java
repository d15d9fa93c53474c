package dev.pcwmesh.eval.tasks;

import java.util.Random;

/**
 * The seven relations of the demo corpus ({@code models/demo/data.py}, {@code make_fact}): the same
 * sentence and question templates the demo model was trained on, filled from the held-out pools.
 */
public final class DemoFacts {
    /** A fact with the question that asks for it. */
    public record Asked(Fact fact, Question question) {}

    private static final String[] RELATIONS = {"lives_in", "works_as", "code_of", "departs_at", "born_on", "owns", "married_to"};

    private DemoFacts() {}

    /** A fact of a random relation, and its question. */
    public static Asked any(Draws d) {
        return of(RELATIONS[d.rng().nextInt(RELATIONS.length)], d);
    }

    public static Asked of(String relation, Draws d) {
        Random rng = d.rng();
        NamePools p = d.pools();
        return switch (relation) {
            case "lives_in" -> {
                String who = d.person(), where = d.any(p.places());
                yield asked(who + " lives in " + where + ".", "Where does " + who + " live?", where);
            }
            case "works_as" -> {
                String who = d.person(), job = d.any(p.professions());
                yield asked(who + " works as " + article(job) + " " + job + ".", "What does " + who + " work as?", job);
            }
            case "code_of" -> code(d.place(), d.code());
            case "departs_at" -> {
                String vehicle, where;
                do {
                    vehicle = d.any(p.vehicles());
                    where = d.any(p.places());
                } while (!d.claim("route " + vehicle + " " + where));
                String time = d.any(p.times());
                yield asked("The " + vehicle + " to " + where + " departs at " + time + ".", "When does the " + vehicle + " to " + where + " depart?", time);
            }
            case "born_on" -> {
                String who = d.person();
                String date = (1 + rng.nextInt(28)) + " " + d.any(p.months()) + " " + d.any(p.years());
                yield asked(who + " was born on " + date + ".", "When was " + who + " born?", date);
            }
            case "owns" -> {
                String who = d.person(), item = d.any(p.items()), n = d.any(p.quantities());
                // The value is mid-sentence: the restated answer goes on past it, so the expected
                // continuation is the number with its item, which the model copies from the question.
                yield asked(who + " keeps " + n + " " + item + ".", "How many " + item + " does " + who + " keep?", n + " " + item);
            }
            case "married_to" -> {
                String a = d.person(), b = d.person();
                yield asked(a + " is married to " + b + ".", "Who is " + a + " married to?", b);
            }
            default -> throw new IllegalArgumentException("unknown relation " + relation);
        };
    }

    /** "The code of {place} is {code}." — the relation the key-value tasks use. */
    public static Asked code(String place, String code) {
        return asked(codeSentence(place, code), codeQuestion(place), code);
    }

    public static String codeSentence(String place, String code) {
        return "The code of " + place + " is " + code + ".";
    }

    public static String codeQuestion(String place) {
        return "What is the code of " + place + "?";
    }

    /** The question, with the fact's sentence up to the answer as the answer lead. */
    private static Asked asked(String sentence, String question, String answer) {
        return new Asked(new Fact(sentence, answer), new Question(question, lead(sentence, answer)));
    }

    /**
     * The demo model answers by restating the fact ("The code of Hoane is TN-8087.", see
     * models/demo/data.py); the prompt carries the restated opening (" The code of Hoane is"), so
     * the reply's line is the answer itself and is scored by exact match.
     */
    static String lead(String sentence, String answer) {
        return " " + sentence.substring(0, sentence.indexOf(answer)).stripTrailing();
    }

    private static String article(String word) {
        return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }
}
