package dev.pcwmesh.eval.tasks;

/**
 * A sentence of a document that carries information.
 *
 * @param answer the part of the sentence a question asks for, written in it verbatim; null when no
 *               question of the sample asks for this sentence (a distractor, a link of a chain)
 */
public record Fact(String sentence, String answer) {

    public Fact {
        if (answer != null && !sentence.contains(answer)) {
            throw new IllegalArgumentException("the answer '" + answer + "' is not in the sentence '" + sentence + "'");
        }
    }

    /** A sentence no question asks for. */
    public static Fact distractor(String sentence) {
        return new Fact(sentence, null);
    }

    /** Where the answer starts inside the sentence (its first occurrence). */
    public int answerIndex() {
        return sentence.indexOf(answer);
    }
}
