package dev.pcwmesh.eval;

import dev.pcwmesh.eval.tasks.Sample;
import dev.pcwmesh.eval.tasks.SampleGenerator;
import dev.pcwmesh.eval.tasks.TokenCounter;
import dev.pcwmesh.runtime.context.Chunker;
import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Document;
import dev.pcwmesh.runtime.context.LocalSegments;
import dev.pcwmesh.runtime.context.PlanCost;
import dev.pcwmesh.runtime.context.PlanRequest;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.Strategy;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs an {@link EvalConfig}: for every length × depth × sample one document, cut into windows;
 * then every strategy plans it, the model answers greedily, and the answer is scored by exact match.
 *
 * <p>A length of n is a document of n windows' worth of tokens, where a window is the trained
 * window less room for the prefix, the question and the answer: at length 1 the whole prompt fits
 * what the model was trained on, and every strategy reduces to the sequential baseline.
 *
 * <p>Each strategy gets its own segment store for each sample, so nothing encoded for one is reused
 * by another and the time to first token includes encoding every window it needs.
 */
public final class Evaluation {
    /** Room for the variation of question lengths between samples (names differ in tokens). */
    private static final int QUESTION_MARGIN = 8;

    private final Model model;
    private final Tokenizer tokenizer;
    private final EvalConfig config;
    private final SampleGenerator generator;
    private final int trainedWindow;
    private final int answerTokens;
    private final int window;

    public Evaluation(Model model, EvalConfig config) {
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.config = config;
        this.generator = new SampleGenerator(config.task(), config.flavour(), TokenCounter.of(tokenizer));
        this.trainedWindow = config.trainedWindow() != null ? config.trainedWindow() : model.config().contextLength();

        // A short sample of the task shows how long its prefix, question and answers are.
        Sample probe = generator.generate(config.seed(), 64, 0.5);
        int longestAnswer = tokenizer.encode(" " + String.join(", ", probe.answers()), false, false).length;
        this.answerTokens = config.answerTokens() != null ? config.answerTokens() : Math.max(16, longestAnswer + 8);
        int reserve = prefix(probe).length + questionIds(probe).length + QUESTION_MARGIN + answerTokens;
        this.window = config.window() != null ? config.window() : trainedWindow - reserve;
        if (window < 8) {
            throw new IllegalArgumentException("a trained window of " + trainedWindow + " tokens leaves " + window
                    + " for the document after " + reserve + " for prefix, question and answer; give a larger --trained-window or a --window");
        }
    }

    public int window() { return window; }

    public int trainedWindow() { return trainedWindow; }

    public int answerTokens() { return answerTokens; }

    /** The sample every strategy sees at this length, depth and index. */
    public Sample sample(int length, int depth, int index) {
        return generator.generate(sampleSeed(config.seed(), length, depth, index), length * window, depth / 100.0);
    }

    public EvalReport run(Progress progress) {
        List<SampleResult> results = new ArrayList<>();
        long done = 0, total = config.runs();
        for (int length : config.lengths()) {
            for (int depth : config.depths()) {
                for (int i = 0; i < config.samples(); i++) {
                    Sample sample = sample(length, depth, i);
                    for (EvalStrategy strategy : config.strategies()) {
                        results.add(answer(strategy, sample, length, depth, i));
                        progress.advanced(++done, total, "%s %dx %d%%".formatted(strategy.name(), length, depth));
                    }
                }
            }
        }
        progress.finished();
        return new EvalReport(config, model.file().path().getFileName().toString(), trainedWindow, window, answerTokens, results);
    }

    /** One strategy answers one sample. */
    SampleResult answer(EvalStrategy evalStrategy, Sample sample, int length, int depth, int index) {
        int[] prefix = prefix(sample);
        int[] question = questionIds(sample);
        List<int[]> windows = new Chunker(tokenizer, window).split(sample.document());
        Document document = new Document(prefix, windows);
        int sequence = prefix.length + document.tokens() + question.length + answerTokens;

        long start = System.nanoTime();
        Strategy strategy = config.strategySettings().create(evalStrategy.strategy(), model, trainedWindow, null);
        PositionEncoding positions = evalStrategy.positions(model.config().rope(), config.rope(), trainedWindow, sequence);
        PlanRequest request = new PlanRequest(model, positions, new LocalSegments(model), trainedWindow, answerTokens);
        ContextPlan plan;
        try {
            plan = strategy.plan(document, question, request);
        } catch (RuntimeException e) {
            throw new IllegalStateException(evalStrategy.name() + " at " + length + "x, depth " + depth + "%, sample " + index + ": " + e.getMessage(), e);
        }
        long planned = System.nanoTime();
        // The answer is one line in both flavours: stop at its newline.
        SamplingParams sampling = SamplingParams.greedy(answerTokens).withStopStrings(List.of("\n"));
        GenerationResult r = new Generator(model, tokenizer).generate(plan, question, sampling, (id, piece) -> {});
        PlanCost cost = plan.cost();
        return new SampleResult(evalStrategy.name(), length, depth, index, sample.tokens(), windows.size(),
                sample.answers(), r.text(), AnswerScorer.correct(r.text(), sample.answers()),
                planned - start + r.prefillNanos(), cost.kvBytes(), cost.tokensEncoded(), plan.note());
    }

    /** BOS (when the model wants one) and the flavour's instruction: the prefix every window attends to. */
    int[] prefix(Sample sample) {
        int[] text = sample.instruction().isEmpty() ? new int[0] : tokenizer.encode(sample.instruction(), false, false);
        if (!tokenizer.addBos() || tokenizer.bos() < 0) return text;
        int[] out = new int[text.length + 1];
        out[0] = tokenizer.bos();
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    int[] questionIds(Sample sample) {
        return tokenizer.encode(sample.prompt(), false, false);
    }

    /** A seed per sample from the run's seed, so that every sample can be regenerated alone. */
    static long sampleSeed(long seed, int length, int depth, int index) {
        long h = seed;
        for (long part : new long[]{length, depth, index}) h = mix(h * 0x9E3779B97F4A7C15L + part);
        return h;
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
