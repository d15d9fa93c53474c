package dev.pcwmesh.eval;

import java.io.PrintWriter;

/**
 * A one-line progress bar redrawn in place with a carriage return (for standard error):
 * {@code [########............]  12/40  30%  eta 1m05s  parallel 4x 50%}. Redraws at most every
 * {@code 200 ms}, and always on the last run, so a fast run does not flood a log.
 */
public final class ProgressBar implements Progress {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final long start = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    public ProgressBar(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void advanced(long done, long total, String what) {
        long now = System.nanoTime();
        if (done < total && drawn && now - lastDraw < REDRAW_NANOS) return;
        lastDraw = now;
        drawn = true;
        out.print("\r" + line(done, total, now - start, what));
        out.flush();
    }

    @Override
    public void finished() {
        if (drawn) out.println();
        out.flush();
    }

    /** The bar for {@code done} of {@code total} runs after {@code elapsedNanos}. */
    static String line(long done, long total, long elapsedNanos, String what) {
        int filled = total == 0 ? WIDTH : (int) (WIDTH * done / total);
        String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
        String eta = done == 0 ? "?" : duration((elapsedNanos / done) * (total - done));
        String line = "[%s] %d/%d %3d%%  eta %s  %s".formatted(bar, done, total, total == 0 ? 100 : 100 * done / total, eta, what);
        return line.length() < 100 ? line + " ".repeat(100 - line.length()) : line; // clears a longer previous line
    }

    static String duration(long nanos) {
        long s = nanos / 1_000_000_000L;
        if (s < 60) return s + "s";
        if (s < 3600) return "%dm%02ds".formatted(s / 60, s % 60);
        return "%dh%02dm".formatted(s / 3600, s / 60 % 60);
    }
}
