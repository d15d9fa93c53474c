package dev.pcwmesh.eval.tasks;

/**
 * What is asked after the document.
 *
 * @param text       the question itself
 * @param answerLead words the prompt puts after "Answer:" so that the model's next words are the
 *                   answer (RULER's answer prefix); empty when the model answers right away
 */
public record Question(String text, String answerLead) {

    public static Question plain(String text) {
        return new Question(text, "");
    }
}
