package dev.pcwmesh.eval.tasks;

import java.util.List;

/**
 * One test item: a document, a question about it, and the answers a correct reply contains.
 *
 * @param instruction   text between BOS and the document (the prefix every window shares); may be empty
 * @param document      the long text the strategies cut into windows
 * @param question      the question alone, for reports
 * @param prompt        what follows the document: the question in the flavour's format, ending where the answer starts
 * @param answers       the expected answers (all of them for multi-value, multi-query and variable tracking)
 * @param answerOffsets where each answer is written in the document (character offsets, same order)
 * @param tokens        the document's length in the model's tokens
 */
public record Sample(String instruction, String document, String question, String prompt,
                     List<String> answers, List<Integer> answerOffsets, int tokens) {

    public Sample {
        answers = List.copyOf(answers);
        answerOffsets = List.copyOf(answerOffsets);
        if (answers.isEmpty() || answers.size() != answerOffsets.size()) {
            throw new IllegalArgumentException(answers.size() + " answers for " + answerOffsets.size() + " offsets");
        }
        for (int i = 0; i < answers.size(); i++) {
            int at = answerOffsets.get(i);
            if (!document.startsWith(answers.get(i), at)) {
                throw new IllegalArgumentException("answer '" + answers.get(i) + "' is not at offset " + at + " of the document");
            }
        }
    }

    /** Where the first answer sits, as a fraction of the document's characters (0 = start, 1 = end). */
    public double answerDepth() {
        return document.length() <= 1 ? 0 : (double) answerOffsets.getFirst() / (document.length() - 1);
    }
}
