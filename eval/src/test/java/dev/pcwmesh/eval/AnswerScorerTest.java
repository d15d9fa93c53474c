package dev.pcwmesh.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exact match on the answer line, not a loose "contains". */
class AnswerScorerTest {

    @Test
    void oneAnswerMustBeTheWholeLine() {
        assertTrue(AnswerScorer.correct(" TN-8087", List.of("TN-8087")));
        assertTrue(AnswerScorer.correct(" TN-8087\n", List.of("TN-8087")));
        assertTrue(AnswerScorer.correct(" 58213.", List.of("58213")), "a final full stop is not part of the answer");
        assertTrue(AnswerScorer.correct(" 1 March 2041\nQuestion: more", List.of("1 March 2041")), "only the first line counts");
        assertFalse(AnswerScorer.correct(" TN-8087 or TN-8088", List.of("TN-8087")));
        assertFalse(AnswerScorer.correct(" TN-80871", List.of("TN-8087")));
        assertFalse(AnswerScorer.correct("\nTN-8087", List.of("TN-8087")), "the answer line is empty");
        assertFalse(AnswerScorer.correct("", List.of("TN-8087")));
        assertFalse(AnswerScorer.correct(" tn-8087", List.of("TN-8087")), "case matters");
    }

    @Test
    void severalAnswersMustAllBeThereAsWholeWords() {
        List<String> expected = List.of("1234567", "7654321");
        assertTrue(AnswerScorer.correct(" 7654321, 1234567.", expected), "any order");
        assertTrue(AnswerScorer.correct(" 1234567 and 7654321", expected));
        assertFalse(AnswerScorer.correct(" 1234567", expected), "one missing");
        assertFalse(AnswerScorer.correct(" 12345678, 7654321", expected), "inside a longer number");
        assertFalse(AnswerScorer.correct(" 1234567\n7654321", expected), "the second is not on the answer line");
    }

    @Test
    void answerLine() {
        assertEquals("Grostad", AnswerScorer.answerLine("  Grostad.  \nmore"));
    }
}
