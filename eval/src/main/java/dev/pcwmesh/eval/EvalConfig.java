package dev.pcwmesh.eval;

import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.eval.tasks.Flavour;
import dev.pcwmesh.eval.tasks.TaskKind;

import java.util.List;

/**
 * What one evaluation runs: every strategy on every length × depth × sample of one task.
 *
 * @param lengths       document lengths as multiples of the window (1 = a document that fits one window)
 * @param depths        where the key fact sits, in percent of the document (0 = start, 100 = end)
 * @param samples       samples per length and depth; every strategy sees the same ones
 * @param seed          the run's seed: the same seed gives the same documents and questions
 * @param window        tokens per window, null for the trained window less the prefix, question and answer
 * @param trainedWindow the model's trained length, null for the file's context_length
 * @param answerTokens  most answer tokens, null for the longest expected answer plus a margin
 */
public record EvalConfig(TaskKind task, Flavour flavour, List<Integer> lengths, List<Integer> depths, List<EvalStrategy> strategies,
                         int samples, long seed, Integer window, Integer trainedWindow, Integer answerTokens,
                         StrategySettings strategySettings, RopeSettings rope) {

    public EvalConfig {
        lengths = List.copyOf(lengths);
        depths = List.copyOf(depths);
        strategies = List.copyOf(strategies);
        if (lengths.isEmpty() || depths.isEmpty() || strategies.isEmpty()) throw new IllegalArgumentException("lengths, depths and strategies must each name at least one");
        for (int l : lengths) if (l < 1) throw new IllegalArgumentException("lengths are positive multiples of the window, got " + l);
        for (int d : depths) if (d < 0 || d > 100) throw new IllegalArgumentException("depths are percentages from 0 to 100, got " + d);
        if (samples < 1) throw new IllegalArgumentException("at least one sample, got " + samples);
        if (window != null && window < 1) throw new IllegalArgumentException("the window must be positive, got " + window);
        if (trainedWindow != null && trainedWindow < 1) throw new IllegalArgumentException("the trained window must be positive, got " + trainedWindow);
        if (answerTokens != null && answerTokens < 1) throw new IllegalArgumentException("answer tokens must be positive, got " + answerTokens);
    }

    /** Runs of the model this configuration makes. */
    public long runs() {
        return (long) lengths.size() * depths.size() * samples * strategies.size();
    }
}
