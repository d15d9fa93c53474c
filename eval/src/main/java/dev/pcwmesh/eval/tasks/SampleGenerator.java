package dev.pcwmesh.eval.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Makes samples of one task in one flavour: the task's facts placed at their depths in filler
 * sentences, as many as keep the document at most {@code targetTokens} tokens of the model's
 * tokenizer (and within one filler sentence of it). Everything comes from the seed, so a seed is
 * a sample: the same seed gives the same document, question and answers.
 */
public final class SampleGenerator {
    private final Task task;
    private final Flavour flavour;
    private final TokenCounter tokens;
    private final NamePools pools;

    public SampleGenerator(TaskKind task, Flavour flavour, TokenCounter tokens) {
        this(task, flavour, tokens, NamePools.heldOut());
    }

    public SampleGenerator(TaskKind task, Flavour flavour, TokenCounter tokens, NamePools pools) {
        this.task = Task.of(task);
        this.flavour = flavour;
        this.tokens = tokens;
        this.pools = pools;
    }

    public TaskKind task() { return task.kind(); }

    public Flavour flavour() { return flavour; }

    /**
     * @param depth 0 to 1: where the key fact sits (by tokens of filler before it)
     */
    public Sample generate(long seed, int targetTokens, double depth) {
        if (targetTokens < 1) throw new IllegalArgumentException("the target length must be positive, got " + targetTokens);
        if (!(depth >= 0 && depth <= 1)) throw new IllegalArgumentException("depth must be in [0, 1], got " + depth);
        Random rng = new Random(seed);
        Language language = flavour.language();
        Needles needles = task.needles(language, new Draws(rng, pools), depth, targetTokens);
        Fillers fillers = new Fillers(rng, language);

        // The facts, then as many distractors as leave at least half the document to filler.
        List<Needles.Placed> placed = new ArrayList<>(needles.facts());
        long factTokens = needles.facts().stream().mapToInt(p -> tokens.count(" " + p.fact().sentence())).sum();
        for (Needles.Placed d : needles.distractors()) {
            int n = tokens.count(" " + d.fact().sentence());
            if (factTokens + n > targetTokens / 2) break;
            placed.add(d);
            factTokens += n;
        }

        // The largest number of fillers that keeps the document within the target, by bisection
        // over the measured length (token counts of sentences do not add up exactly).
        fillers.drawUntil(Math.max(0, targetTokens - factTokens) * 5L / 4 + 16);
        while (measure(placed, fillers, fillers.size()) <= targetTokens && fillers.estimated() < 4L * targetTokens + 64) {
            fillers.drawUntil(fillers.estimated() * 2 + 16);
        }
        int lo = 0, hi = fillers.size();
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (measure(placed, fillers, mid) <= targetTokens) lo = mid;
            else hi = mid - 1;
        }
        Assembled doc = assemble(placed, fillers, lo);
        return new Sample(language.instruction(task.kind()), doc.text, needles.question().text(), language.prompt(needles.question()),
                needles.answers(), doc.answerOffsets, tokens.count(doc.text));
    }

    private int measure(List<Needles.Placed> facts, Fillers fillers, int n) {
        return tokens.count(assemble(facts, fillers, n).text);
    }

    private record Assembled(String text, List<Integer> answerOffsets) {}

    /**
     * The first {@code n} fillers with each fact in the gap whose filler tokens before it are
     * nearest its depth; facts in one gap keep their order. Answer offsets in the order of the facts.
     */
    private static Assembled assemble(List<Needles.Placed> facts, Fillers fillers, int n) {
        long[] before = new long[n + 1];
        for (int i = 0; i < n; i++) before[i + 1] = before[i] + fillers.tokens.get(i);
        List<List<Integer>> gaps = new ArrayList<>();
        for (int i = 0; i <= n; i++) gaps.add(new ArrayList<>());
        for (int f = 0; f < facts.size(); f++) gaps.get(nearestGap(before, facts.get(f).depth() * before[n])).add(f);

        StringBuilder text = new StringBuilder();
        Integer[] offsets = new Integer[facts.size()];
        for (int gap = 0; gap <= n; gap++) {
            for (int f : gaps.get(gap)) {
                Fact fact = facts.get(f).fact();
                if (!text.isEmpty()) text.append(' ');
                if (fact.answer() != null) offsets[f] = text.length() + fact.answerIndex();
                text.append(fact.sentence());
            }
            if (gap < n) {
                if (!text.isEmpty()) text.append(' ');
                text.append(fillers.sentences.get(gap));
            }
        }
        List<Integer> answerOffsets = new ArrayList<>();
        for (Integer o : offsets) if (o != null) answerOffsets.add(o);
        return new Assembled(text.toString(), answerOffsets);
    }

    private static int nearestGap(long[] before, double target) {
        int best = 0;
        for (int i = 1; i < before.length; i++) {
            if (Math.abs(before[i] - target) < Math.abs(before[best] - target)) best = i;
        }
        return best;
    }

    /** Filler sentences drawn in order from the sample's random source, with their estimated tokens. */
    private final class Fillers {
        final Random rng;
        final Language language;
        final List<String> sentences = new ArrayList<>();
        final List<Integer> tokens = new ArrayList<>();
        long estimated;

        Fillers(Random rng, Language language) {
            this.rng = rng;
            this.language = language;
        }

        void drawUntil(long estimatedTokens) {
            while (estimated < estimatedTokens) {
                String s = language.filler(rng, task.kind());
                int n = SampleGenerator.this.tokens.count(" " + s);
                sentences.add(s);
                tokens.add(n);
                estimated += n;
            }
        }

        int size() { return sentences.size(); }

        long estimated() { return estimated; }
    }
}
