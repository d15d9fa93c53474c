package dev.pcwmesh.corpus;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The report's pictures (XChart, drawn off screen): {@value #LENGTHS} (length distribution before and
 * after), {@value #DOMAINS} (domain shares before and after mixing), {@value #REJECTIONS} (rejections by reason).
 */
public final class ReportPlots {
    public static final String LENGTHS = "lengths.png", DOMAINS = "domains.png", REJECTIONS = "rejections.png";

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private ReportPlots() {}

    public static List<Path> write(Manifest m, Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        out.add(save(lengths(m), dir.resolve(LENGTHS)));
        out.add(save(domains(m), dir.resolve(DOMAINS)));
        out.add(save(rejections(m), dir.resolve(REJECTIONS)));
        return out;
    }

    static CategoryChart lengths(Manifest m) {
        CategoryChart c = chart("Length distribution (tokens)", "length in tokens", "share");
        addShares(c, "documents kept by the filter", m.lengthHistogramBefore());
        addShares(c, "units in the output", m.lengthHistogramAfter());
        c.getStyler().setXAxisLabelRotation(45);
        return c;
    }

    static CategoryChart domains(Manifest m) {
        CategoryChart c = chart("Domain mix (share of tokens)", "domain", "share of tokens");
        List<String> names = new ArrayList<>(m.domains().keySet());
        if (names.isEmpty()) names.add("(none)");
        long in = m.domains().values().stream().mapToLong(Manifest.Domain::inputTokens).sum();
        List<Double> before = new ArrayList<>(), target = new ArrayList<>(), after = new ArrayList<>();
        for (String n : names) {
            Manifest.Domain d = m.domains().get(n);
            before.add(d == null || in == 0 ? 0.0 : (double) d.inputTokens() / in);
            target.add(d == null ? 0.0 : d.targetShare());
            after.add(d == null ? 0.0 : d.outputShare());
        }
        c.addSeries("input", names, before);
        c.addSeries("target", names, target);
        c.addSeries("output", names, after);
        return c;
    }

    static CategoryChart rejections(Manifest m) {
        CategoryChart c = chart("Documents rejected, by reason", "reason", "documents");
        List<String> names = new ArrayList<>(m.rejections().keySet());
        List<Long> counts = new ArrayList<>(m.rejections().values());
        c.addSeries("rejected", names, counts);
        c.getStyler().setLegendVisible(false);
        c.getStyler().setXAxisLabelRotation(45);
        return c;
    }

    private static void addShares(CategoryChart c, String name, Map<String, Long> histogram) {
        long total = histogram.values().stream().mapToLong(Long::longValue).sum();
        c.addSeries(name, new ArrayList<>(histogram.keySet()),
                histogram.values().stream().map(v -> total == 0 ? 0.0 : (double) v / total).toList());
    }

    private static CategoryChart chart(String title, String x, String y) {
        CategoryChart c = new CategoryChartBuilder().width(900).height(520).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setAvailableSpaceFill(0.8);
        return c;
    }

    private static Path save(CategoryChart chart, Path file) throws IOException {
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }
}
