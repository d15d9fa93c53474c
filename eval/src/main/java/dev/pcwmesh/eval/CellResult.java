package dev.pcwmesh.eval;

import java.util.List;

/** The samples of one strategy × length × depth, summarised. */
public record CellResult(String strategy, int length, int depth, int samples, double accuracy,
                         double ttftMillis, double kvBytes, double tokensEncoded, double documentTokens) {

    static CellResult of(String strategy, int length, int depth, List<SampleResult> rows) {
        if (rows.isEmpty()) throw new IllegalArgumentException("no samples for " + strategy + " " + length + "x " + depth + "%");
        return new CellResult(strategy, length, depth, rows.size(),
                rows.stream().filter(SampleResult::correct).count() / (double) rows.size(),
                rows.stream().mapToLong(SampleResult::ttftNanos).average().orElseThrow() / 1e6,
                rows.stream().mapToLong(SampleResult::kvBytes).average().orElseThrow(),
                rows.stream().mapToLong(SampleResult::tokensEncoded).average().orElseThrow(),
                rows.stream().mapToInt(SampleResult::documentTokens).average().orElseThrow());
    }
}
