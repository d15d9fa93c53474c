package dev.pcwmesh.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** {@value #FILE}: the manifest for people, with the plots of {@link ReportPlots}. */
public final class Report {
    public static final String FILE = "report.md";

    private Report() {}

    public static void write(Manifest m, Path dir, String command) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("# Corpus report\n\n");
        if (command != null) b.append("`").append(command).append("`\n\n");
        b.append(String.format(Locale.ROOT, "%,d sequences of %,d tokens (%s, %s) for %s: %,d tokens, %,d of them padding.%n%n",
                m.sequences(), m.sequenceLength(), m.tokenFile(), m.dtype(), m.model(), m.tokens(), m.paddingTokens()));
        var d = m.documents();
        b.append(String.format(Locale.ROOT, "Documents: %,d read, %,d unreadable, %,d rejected, %,d kept. "
                + "Units: %,d holistic, %,d aggregates, %,d short alone; %,d in the output (%,d cut to fill a budget exactly).%n%n",
                d.read(), d.unreadable(), d.rejected(), d.kept(), m.units().holistic(), m.units().aggregates(), m.units().shortAlone(),
                m.units().output(), m.units().cut()));

        b.append("## Domains\n\n| domain | documents | tokens in | after length sampling | tokens out | target share | output share |\n")
                .append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Map.Entry<String, Manifest.Domain> e : m.domains().entrySet()) {
            Manifest.Domain x = e.getValue();
            b.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %.4f | %.4f |%n", e.getKey(), x.documents(), x.inputTokens(),
                    x.candidateTokens(), x.outputTokens(), x.targetShare(), x.outputShare()));
        }
        var mix = m.mixing();
        b.append(String.format(Locale.ROOT, "%nBudget %,d tokens (%s). Units under %,d tokens kept with probability %.2f: "
                        + "%,d of %,d short units kept, %,d of %,d long ones.%n%n![domain mix](%s)%n%n",
                mix.budget(), mix.limitedByData() ? "the most the data allows at this mix" : "as configured",
                mix.longMinTokens(), mix.shortKeep(), mix.shortKept(), mix.shortUnits(), mix.longKept(), mix.longUnits(), ReportPlots.DOMAINS));

        b.append("## Lengths\n\n| tokens | documents kept by the filter | units in the output |\n| --- | ---: | ---: |\n");
        for (String k : m.lengthHistogramBefore().keySet()) {
            b.append(String.format(Locale.ROOT, "| %s | %,d | %,d |%n", k, m.lengthHistogramBefore().get(k), m.lengthHistogramAfter().getOrDefault(k, 0L)));
        }
        b.append("\n![lengths](").append(ReportPlots.LENGTHS).append(")\n\n");

        b.append("## Rejections\n\n| reason | documents |\n| --- | ---: |\n");
        for (var e : m.rejections().entrySet()) b.append(String.format(Locale.ROOT, "| %s | %,d |%n", e.getKey(), e.getValue()));
        b.append("\nEvery rejected document, with its reason and the measured value, is in `rejected.jsonl`.\n\n![rejections](")
                .append(ReportPlots.REJECTIONS).append(")\n");
        Files.writeString(dir.resolve(FILE), b.toString());
    }
}
