package dev.pcwmesh.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The report as text: {@code results.md} (accuracy by strategy and length, then every cell),
 * {@code results.csv} (one row per strategy × length × depth) and {@code samples.csv} (one row per
 * run, with the reply, for looking at what went wrong).
 */
public final class ResultsTables {
    private ResultsTables() {}

    public static void write(EvalReport report, Path dir, String command) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.md"), markdown(report, command));
        Files.writeString(dir.resolve("results.csv"), cellsCsv(report));
        Files.writeString(dir.resolve("samples.csv"), samplesCsv(report));
    }

    public static String markdown(EvalReport report, String command) {
        EvalConfig c = report.config();
        StringBuilder md = new StringBuilder();
        md.append("# pcw eval: ").append(c.task()).append(" (").append(c.flavour()).append(" flavour) on ").append(report.model()).append("\n\n");
        if (command != null && !command.isBlank()) md.append("```\n").append(command).append("\n```\n\n");
        md.append(String.format(Locale.ROOT, "Trained window %d tokens; windows of %d tokens (a length of n is a document of n windows); "
                        + "%d samples per cell; seed %d; answers of at most %d tokens, scored by exact match.%n%n",
                report.trainedWindow(), report.window(), c.samples(), c.seed(), report.answerTokens()));

        md.append("## Accuracy by length (all depths)\n\n| strategy |");
        for (int l : c.lengths()) md.append(' ').append(l).append("× |");
        md.append("\n| --- |").append(" ---: |".repeat(c.lengths().size())).append('\n');
        for (EvalStrategy s : c.strategies()) {
            md.append("| ").append(s.name()).append(" |");
            for (int l : c.lengths()) md.append(String.format(Locale.ROOT, " %.2f |", report.accuracy(s.name(), l)));
            md.append('\n');
        }

        md.append("\n## Every cell\n\n| strategy | length | depth | samples | accuracy | time to first token (ms) | KV (MiB) | tokens encoded | document tokens |\n")
                .append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (CellResult cell : report.cells()) {
            md.append(String.format(Locale.ROOT, "| %s | %d× | %d%% | %d | %.2f | %.1f | %.2f | %.0f | %.0f |%n",
                    cell.strategy(), cell.length(), cell.depth(), cell.samples(), cell.accuracy(), cell.ttftMillis(),
                    cell.kvBytes() / 1048576.0, cell.tokensEncoded(), cell.documentTokens()));
        }
        List<String> notes = report.results().stream().filter(r -> !r.note().isEmpty())
                .map(r -> r.strategy() + " " + r.length() + "×: " + r.note()).distinct().limit(10).toList();
        if (!notes.isEmpty()) {
            md.append("\nNotes from the plans (first ten):\n\n");
            notes.forEach(n -> md.append("- ").append(n).append('\n'));
        }
        return md.toString();
    }

    public static String cellsCsv(EvalReport report) {
        EvalConfig c = report.config();
        StringBuilder csv = new StringBuilder("task,flavour,strategy,length,depth,samples,accuracy,ttft_ms,kv_bytes,tokens_encoded,document_tokens\n");
        for (CellResult cell : report.cells()) {
            csv.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%d,%d,%.4f,%.3f,%.0f,%.1f,%.1f%n",
                    c.task(), c.flavour(), cell.strategy(), cell.length(), cell.depth(), cell.samples(), cell.accuracy(),
                    cell.ttftMillis(), cell.kvBytes(), cell.tokensEncoded(), cell.documentTokens()));
        }
        return csv.toString();
    }

    public static String samplesCsv(EvalReport report) {
        StringBuilder csv = new StringBuilder("strategy,length,depth,sample,document_tokens,windows,correct,expected,reply,ttft_ms,kv_bytes,tokens_encoded,note\n");
        for (SampleResult r : report.results()) {
            csv.append(String.join(",", r.strategy(), Integer.toString(r.length()), Integer.toString(r.depth()), Integer.toString(r.sample()),
                    Integer.toString(r.documentTokens()), Integer.toString(r.windows()), Boolean.toString(r.correct()),
                    quote(String.join(" | ", r.expected())), quote(r.reply()),
                    String.format(Locale.ROOT, "%.3f", r.ttftNanos() / 1e6), Long.toString(r.kvBytes()), Long.toString(r.tokensEncoded()),
                    quote(r.note()))).append('\n');
        }
        return csv.toString();
    }

    /** A CSV field: quoted, quotes doubled (RFC 4180). */
    static String quote(String s) {
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
