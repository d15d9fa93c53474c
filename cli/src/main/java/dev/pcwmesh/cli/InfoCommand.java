package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.gguf.GgufValue;
import dev.pcwmesh.runtime.gguf.GgufValueType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pcw info}: what a GGUF file holds. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a GGUF file's version, alignment, metadata, tensors and totals.")
public final class InfoCommand implements Callable<Integer> {

    /** Longest rendering of one value before it is cut. */
    static final int MAX_VALUE_CHARS = 120;

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "The GGUF file.")
    Path model;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile f = GgufFile.open(model)) {
            out.printf(Locale.ROOT, "file:       %s (%,d bytes)%n", f.path(), f.byteSize());
            out.printf(Locale.ROOT, "version:    GGUF %d%n", f.version());
            out.printf(Locale.ROOT, "alignment:  %d%n", f.alignment());
            out.printf(Locale.ROOT, "data:       at offset %,d%n", f.dataOffset());

            out.printf(Locale.ROOT, "%nmetadata (%d keys):%n", f.metadata().size());
            int keyWidth = f.metadata().keySet().stream().mapToInt(String::length).max().orElse(0);
            for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
                GgufValue v = e.getValue();
                String type = v.type() == GgufValueType.ARRAY ? "ARRAY" : v.type().toString();
                out.printf(Locale.ROOT, "  %-" + keyWidth + "s  %-7s  %s%n", e.getKey(), type, render(v));
            }

            out.printf(Locale.ROOT, "%ntensors (%d):%n", f.tensors().size());
            int nameWidth = Math.max(4, f.tensors().keySet().stream().mapToInt(String::length).max().orElse(0));
            out.printf(Locale.ROOT, "  %-" + nameWidth + "s  %-7s  %-22s  %14s%n", "name", "type", "shape", "bytes");
            Map<GgmlType, long[]> byType = new EnumMap<>(GgmlType.class); // tensors, params, bytes
            long params = 0, bytes = 0;
            for (GgufTensor t : f.tensors().values()) {
                out.printf(Locale.ROOT, "  %-" + nameWidth + "s  %-7s  %-22s  %,14d%n", t.name(), t.type(), Arrays.toString(t.shape()), t.byteSize());
                long[] acc = byType.computeIfAbsent(t.type(), k -> new long[3]);
                acc[0]++;
                acc[1] += t.elementCount();
                acc[2] += t.byteSize();
                params += t.elementCount();
                bytes += t.byteSize();
            }

            out.printf(Locale.ROOT, "%ntotals:%n");
            out.printf(Locale.ROOT, "  parameters  %,d (%s)%n", params, human(params, ""));
            out.printf(Locale.ROOT, "  bytes       %,d (%s)%n", bytes, human(bytes, "B"));
            for (var e : byType.entrySet()) {
                long[] a = e.getValue();
                out.printf(Locale.ROOT, "  %-7s  %4d tensors  %,14d parameters  %,16d bytes%n", e.getKey(), a[0], a[1], a[2]);
            }
        }
        out.flush();
        return 0;
    }

    /** A value on one line: arrays abbreviated as {@link GgufValue#toString()} does, long strings cut, control characters escaped. */
    static String render(GgufValue v) {
        String s = v.toString();
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(MAX_VALUE_CHARS).forEach(c -> {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) b.append(String.format("\\u%04x", c));
                    else b.appendCodePoint(c);
                }
            }
        });
        long total = s.codePoints().count();
        if (total > MAX_VALUE_CHARS) b.append("... (").append(total).append(" characters)");
        return b.toString();
    }

    static String human(long n, String unit) {
        String[] prefixes = unit.equals("B") ? new String[]{"", "Ki", "Mi", "Gi", "Ti"} : new String[]{"", "K", "M", "G", "T"};
        double base = unit.equals("B") ? 1024 : 1000;
        double v = n;
        int i = 0;
        while (v >= base && i < prefixes.length - 1) {
            v /= base;
            i++;
        }
        return i == 0 ? n + (unit.isEmpty() ? "" : " " + unit) : String.format(Locale.ROOT, "%.1f %s%s", v, prefixes[i], unit);
    }
}
