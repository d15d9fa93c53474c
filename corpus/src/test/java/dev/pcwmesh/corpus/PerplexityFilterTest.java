package dev.pcwmesh.corpus;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The optional perplexity filter with a real model, stories260K (trained on children's stories):
 * a story reads as likely, scrambled letters do not, the threshold separates them with a reason,
 * and a document too short to score passes unscored.
 */
class PerplexityFilterTest {
    static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(TestModels.shared(Stories260K.FILE));
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    private static final String STORY = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw \
            a big, red ball. She wanted to play with it, but it was too high. Lily's mom said, "Let's ask the man for help." \
            The man was kind and gave Lily the ball. Lily was very happy. She said thank you and played with the ball all day. \
            At night, Lily went home with her mom. She was tired but happy. She hugged her mom and went to sleep.""";

    private static String scrambled(int letters) {
        SplittableRandom rng = new SplittableRandom(7);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < letters; i++) b.append(i % 7 == 6 ? ' ' : (char) ('a' + rng.nextInt(26)));
        return b.toString();
    }

    private static int[] tokens(String text) {
        return model.tokenizer().encode(text, false, false);
    }

    @Test
    void aStoryIsLikelyAndScrambledLettersAreNot() {
        PerplexityFilter measure = new PerplexityFilter(model, Double.MAX_VALUE, 256);
        double story = measure.measure(tokens(STORY));
        double noise = measure.measure(tokens(scrambled(STORY.length())));
        assertTrue(story < 20, "the story's perplexity: " + story);
        assertTrue(noise > 5 * story, "scrambled letters " + noise + " against the story's " + story);

        PerplexityFilter filter = new PerplexityFilter(model, Math.sqrt(story * noise), 256);
        assertNull(filter.check(tokens(STORY)));
        Rejection rejected = filter.check(tokens(scrambled(STORY.length())));
        assertNotNull(rejected);
        assertEquals(Rejection.Reason.HIGH_PERPLEXITY, rejected.reason());
        assertTrue(rejected.detail().startsWith("perplexity "), rejected.detail());
    }

    @Test
    void aDocumentTooShortToScorePasses() {
        PerplexityFilter filter = new PerplexityFilter(model, 1.0, 256);
        int[] few = tokens("Lily ran.");
        assertTrue(Double.isNaN(filter.measure(few)), "fewer than 15 tokens are not scored");
        assertNull(filter.check(few));
    }

    @Test
    void domainRulesComeBeforeTheSourcesOwnDomain() {
        DomainTagger tagger = DomainTagger.parse(java.util.List.of("law=/contracts/", "code=\\.java$"));
        assertEquals("law", tagger.domain(new Document("a", "x", "/data/contracts/2024/a.txt", "misc", null, null)));
        assertEquals("code", tagger.domain(new Document("b", "x", "src/Main.java", "misc", null, null)));
        assertEquals("misc", tagger.domain(new Document("c", "x", "/data/notes/c.txt", "misc", null, null)));
        assertEquals(DomainTagger.DEFAULT, tagger.domain(new Document("d", "x", "/data/notes/d.txt", null, null, null)));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> DomainTagger.parse(java.util.List.of("nodomain")));
    }
}
