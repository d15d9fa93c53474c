package dev.pcwmesh.eval.tasks;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The properties every task generator must have, over many seeds, measured with the demo model's
 * own tokenizer: the answers are in the document where the sample says, no training name is used,
 * the key fact sits at the asked depth, the length is the asked number of tokens, and a seed is a sample.
 */
class SampleGeneratorTest {
    static Tokenizer demo;

    @BeforeAll
    static void loadTokenizer() {
        demo = tokenizer(TestModels.inRepository("models/pcw-demo.gguf"));
    }

    static Tokenizer tokenizer(Path gguf) {
        try (GgufFile f = GgufFile.open(gguf)) {
            return Tokenizer.fromGguf(f);
        }
    }

    static Stream<Arguments> everyTaskAndFlavour() {
        List<Arguments> out = new ArrayList<>();
        for (TaskKind t : TaskKind.values()) for (Flavour f : Flavour.values()) out.add(Arguments.of(t, f));
        return out.stream();
    }

    static SampleGenerator generator(TaskKind task, Flavour flavour) {
        return new SampleGenerator(task, flavour, TokenCounter.of(demo));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyTaskAndFlavour")
    void answersAreInTheDocumentWhereTheSampleSays(TaskKind task, Flavour flavour) {
        SampleGenerator g = generator(task, flavour);
        Random depths = new Random(7);
        for (long seed = 0; seed < 60; seed++) {
            Sample s = g.generate(seed, 150 + (int) (seed % 5) * 100, depths.nextInt(101) / 100.0);
            assertFalse(s.answers().isEmpty());
            for (int i = 0; i < s.answers().size(); i++) {
                String answer = s.answers().get(i);
                int at = s.answerOffsets().get(i);
                assertTrue(at >= 0 && at + answer.length() <= s.document().length(), "seed " + seed + ": offset " + at + " outside the document");
                assertEquals(answer, s.document().substring(at, at + answer.length()), "seed " + seed);
                assertFalse(s.prompt().contains(answer), "seed " + seed + ": the question gives the answer away: " + s.prompt());
                assertFalse(s.instruction().contains(answer), "seed " + seed);
            }
        }
    }

    private static final Pattern CAPITALISED = Pattern.compile("\\b[A-Z][a-z]+\\b");
    private static final Pattern CODE = Pattern.compile("\\b([A-Z]{2})-\\d{4}\\b");

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyTaskAndFlavour")
    void onlyHeldOutNamesAndCodes(TaskKind task, Flavour flavour) {
        Set<String> training = NamePools.training().entityNames();
        Set<String> heldOut = NamePools.heldOut().entityNames();
        Set<String> heldOutPrefixes = Set.copyOf(NamePools.heldOut().codePrefixes());
        SampleGenerator g = generator(task, flavour);
        for (long seed = 0; seed < 60; seed++) {
            Sample s = g.generate(seed, 400, 0.5);
            String text = s.instruction() + "\n" + s.document() + "\n" + s.prompt() + "\n" + String.join(" ", s.answers());
            Matcher m = CAPITALISED.matcher(text);
            while (m.find()) assertFalse(training.contains(m.group()), "seed " + seed + ": training name " + m.group() + " in " + task + " " + flavour);
            Matcher c = CODE.matcher(text);
            while (c.find()) assertTrue(heldOutPrefixes.contains(c.group(1)), "seed " + seed + ": code prefix " + c.group() + " is not held out");
        }
        // And the names are really there: the check above is not vacuous.
        if (!(task == TaskKind.PASSKEY && flavour == Flavour.RULER) && !(task == TaskKind.VARIABLE_TRACKING && flavour == Flavour.RULER)) {
            Sample s = g.generate(1, 400, 0.5);
            Matcher m = CAPITALISED.matcher(s.document());
            boolean any = false;
            while (m.find()) any |= heldOut.contains(m.group());
            assertTrue(any, "no held-out name in " + s.document());
        }
    }

    @Test
    void heldOutAndTrainingPoolsAreDisjoint() {
        Set<String> training = NamePools.training().entityNames();
        assertTrue(training.size() > 1000);
        for (String n : NamePools.heldOut().entityNames()) assertFalse(training.contains(n), n);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyTaskAndFlavour")
    void aSeedIsASample(TaskKind task, Flavour flavour) {
        SampleGenerator g = generator(task, flavour);
        assertEquals(g.generate(42, 500, 0.3), g.generate(42, 500, 0.3));
        assertEquals(g.generate(42, 500, 0.3), generator(task, flavour).generate(42, 500, 0.3), "a new generator gives the same sample");
        assertNotEquals(g.generate(42, 500, 0.3).document(), g.generate(43, 500, 0.3).document());
    }

    @ParameterizedTest
    @EnumSource(value = TaskKind.class, names = {"PASSKEY", "NEEDLE", "MULTI_KEY", "MULTI_VALUE", "MULTI_QUERY"})
    void theKeyFactSitsAtTheDepth(TaskKind task) {
        for (Flavour flavour : Flavour.values()) {
            SampleGenerator g = generator(task, flavour);
            for (int d = 0; d <= 100; d += 25) {
                for (long seed = 0; seed < 5; seed++) {
                    Sample s = g.generate(seed, 1500, d / 100.0);
                    assertEquals(d / 100.0, s.answerDepth(), 0.08, task + " " + flavour + " seed " + seed + " depth " + d);
                }
            }
        }
    }

    @Test
    void variableChainsStartAtTheDepthAndReadForwards() {
        for (Flavour flavour : Flavour.values()) {
            SampleGenerator g = generator(TaskKind.VARIABLE_TRACKING, flavour);
            for (int d = 0; d <= 100; d += 50) {
                Sample s = g.generate(3, 1500, d / 100.0);
                assertEquals(d / 100.0, s.answerDepth(), 0.08, flavour + " depth " + d);
                List<Integer> offsets = s.answerOffsets();
                for (int i = 1; i < offsets.size(); i++) assertTrue(offsets.get(i) > offsets.get(i - 1), "links in order: " + offsets);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyTaskAndFlavour")
    void theDocumentHasTheTargetLengthInTokens(TaskKind task, Flavour flavour) {
        SampleGenerator g = generator(task, flavour);
        for (int target : new int[]{223, 892, 3568}) {
            Sample s = g.generate(target, target, 0.5);
            int measured = demo.encode(s.document(), false, false).length;
            assertEquals(measured, s.tokens());
            assertTrue(measured <= target && measured >= target - 25, task + " " + flavour + ": " + measured + " tokens for a target of " + target);
        }
    }

    @Test
    void lengthsFollowTheTokenizerTheyAreMeasuredWith() {
        Tokenizer stories = tokenizer(TestModels.shared(Stories260K.FILE));
        for (Flavour flavour : Flavour.values()) {
            SampleGenerator g = new SampleGenerator(TaskKind.NEEDLE, flavour, TokenCounter.of(stories));
            Sample s = g.generate(5, 1000, 0.5);
            int measured = stories.encode(s.document(), false, false).length;
            assertEquals(measured, s.tokens());
            assertTrue(measured <= 1000 && measured >= 1000 - 40, flavour + ": " + measured);
        }
    }
}
