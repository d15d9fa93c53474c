package dev.pcwmesh.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything one evaluation measured.
 *
 * @param model         the model file's name
 * @param trainedWindow the trained length the run assumed
 * @param window        tokens per window; a length of n is a document of n windows
 * @param answerTokens  the most answer tokens generated
 */
public record EvalReport(EvalConfig config, String model, int trainedWindow, int window, int answerTokens, List<SampleResult> results) {

    public EvalReport {
        results = List.copyOf(results);
    }

    /** Every strategy × length × depth, in the configured order. */
    public List<CellResult> cells() {
        List<CellResult> out = new ArrayList<>();
        for (EvalStrategy s : config.strategies()) {
            for (int length : config.lengths()) {
                for (int depth : config.depths()) out.add(cell(s.name(), length, depth));
            }
        }
        return out;
    }

    public CellResult cell(String strategy, int length, int depth) {
        return CellResult.of(strategy, length, depth, results.stream()
                .filter(r -> r.strategy().equals(strategy) && r.length() == length && r.depth() == depth).toList());
    }

    /** Accuracy of a strategy at a length, over every depth and sample. */
    public double accuracy(String strategy, int length) {
        List<SampleResult> rows = results.stream().filter(r -> r.strategy().equals(strategy) && r.length() == length).toList();
        return rows.stream().filter(SampleResult::correct).count() / (double) rows.size();
    }

    /** Accuracy of a strategy over the whole run. */
    public double accuracy(String strategy) {
        List<SampleResult> rows = results.stream().filter(r -> r.strategy().equals(strategy)).toList();
        return rows.stream().filter(SampleResult::correct).count() / (double) rows.size();
    }
}
