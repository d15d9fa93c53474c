package dev.pcwmesh.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
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

    /** Lengths are evenly spaced categories (1×, 2×, 4× ... read as a doubling scale), one line per strategy. */
    static CategoryChart accuracyByLength(EvalReport report) {
        EvalConfig c = report.config();
        CategoryChart chart = new CategoryChartBuilder().width(900).height(560)
                .title(c.task() + " (" + c.flavour() + ") on " + report.model() + ": accuracy by document length")
                .xAxisTitle("document length (windows of " + report.window() + " tokens)").yAxisTitle("exact-match accuracy").build();
        chart.getStyler().setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        chart.getStyler().setOverlapped(true); // every strategy at the same x for a length
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setYAxisDecimalPattern("0.0");
        chart.getStyler().setYAxisTickMarkSpacingHint(40);
        chart.getStyler().setMarkerSize(8);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        List<String> x = c.lengths().stream().map(l -> l + "×").toList();
        for (EvalStrategy s : c.strategies()) {
            List<Double> y = c.lengths().stream().map(l -> report.accuracy(s.name(), l)).toList();
            chart.addSeries(s.name(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /** Lengths across, depths down from the start of the document (0 %) at the top. */
    static HeatMapChart heatmap(EvalReport report, String strategy) {
        EvalConfig c = report.config();
        HeatMapChart chart = new HeatMapChartBuilder().width(700).height(520)
                .title(strategy + ": " + c.task() + " accuracy by depth and length")
                .xAxisTitle("document length (windows)").yAxisTitle("depth of the key fact").build();
        chart.getStyler().setShowValue(true);
        chart.getStyler().setHeatMapValueDecimalPattern("0.00");
        chart.getStyler().setMin(0);
        chart.getStyler().setMax(1);
        chart.getStyler().setRangeColors(new Color[]{new Color(0xC62828), new Color(0xFDD835), new Color(0x2E7D32)});
        chart.getStyler().setPlotContentSize(1);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        List<String> xs = c.lengths().stream().map(l -> l + "×").toList();
        List<Integer> depths = c.depths().reversed(); // the chart's first row is at the bottom
        List<String> ys = depths.stream().map(d -> d + "%").toList();
        List<Number[]> values = new ArrayList<>();
        for (int i = 0; i < c.lengths().size(); i++) {
            for (int j = 0; j < depths.size(); j++) {
                values.add(new Number[]{i, j, report.cell(strategy, c.lengths().get(i), depths.get(j)).accuracy()});
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
