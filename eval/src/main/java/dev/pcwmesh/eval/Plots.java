package dev.pcwmesh.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The report as pictures (XChart, drawn off screen): {@code accuracy-by-length.png}, one line per
 * strategy, and {@code heatmap-<strategy>.png}, accuracy by depth × length.
 */
public final class Plots {
    static {
        // Charts are drawn into images; no display is needed or wanted (servers, CI).
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /** Writes every plot into {@code dir}; returns the files written. */
    public static List<Path> write(EvalReport report, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        out.add(save(accuracyByLength(report), dir.resolve("accuracy-by-length.png")));
        for (EvalStrategy s : report.config().strategies()) {
            out.add(save(heatmap(report, s.name()), dir.resolve("heatmap-" + s.name() + ".png")));
        }
        return out;
    }

    static XYChart accuracyByLength(EvalReport report) {
        EvalConfig c = report.config();
        XYChart chart = new XYChartBuilder().width(900).height(560)
                .title(c.task() + " (" + c.flavour() + ") on " + report.model() + ": accuracy by document length")
                .xAxisTitle("document length (windows of " + report.window() + " tokens)").yAxisTitle("exact-match accuracy").build();
        Styler.LegendPosition legend = Styler.LegendPosition.OutsideE;
        chart.getStyler().setLegendPosition(legend);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setMarkerSize(8);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        int minLength = c.lengths().stream().mapToInt(Integer::intValue).min().orElse(1);
        int maxLength = c.lengths().stream().mapToInt(Integer::intValue).max().orElse(1);
        chart.getStyler().setXAxisLogarithmic(maxLength >= 4 * minLength);
        double[] x = c.lengths().stream().mapToDouble(Integer::doubleValue).toArray();
        for (EvalStrategy s : c.strategies()) {
            double[] y = c.lengths().stream().mapToDouble(l -> report.accuracy(s.name(), l)).toArray();
            chart.addSeries(s.name(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    static HeatMapChart heatmap(EvalReport report, String strategy) {
        EvalConfig c = report.config();
        HeatMapChart chart = new HeatMapChartBuilder().width(700).height(520)
                .title(strategy + ": " + c.task() + " accuracy by depth and length")
                .xAxisTitle("document length (windows)").yAxisTitle("depth of the key fact").build();
        chart.getStyler().setShowValue(true);
        chart.getStyler().setMin(0);
        chart.getStyler().setMax(1);
        chart.getStyler().setRangeColors(new Color[]{new Color(0xC62828), new Color(0xFDD835), new Color(0x2E7D32)});
        chart.getStyler().setPlotContentSize(1);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        List<String> xs = c.lengths().stream().map(l -> l + "×").toList();
        List<String> ys = c.depths().stream().map(d -> d + "%").toList();
        List<Number[]> values = new ArrayList<>();
        for (int i = 0; i < c.lengths().size(); i++) {
            for (int j = 0; j < c.depths().size(); j++) {
                values.add(new Number[]{i, j, report.cell(strategy, c.lengths().get(i), c.depths().get(j)).accuracy()});
            }
        }
        chart.addSeries("accuracy", xs, ys, values);
        return chart;
    }

    private static Path save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path file) throws IOException {
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }
}
