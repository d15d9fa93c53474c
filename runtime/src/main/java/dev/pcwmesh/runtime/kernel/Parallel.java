package dev.pcwmesh.runtime.kernel;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fixed pool of one worker per core that splits a range of rows into equal contiguous
 * chunks. The calling thread takes the first chunk itself, so a one-core machine runs with no
 * hand-off at all. The number of threads is {@code -Dpcw.threads=N} or the number of cores.
 */
public final class Parallel {

    /** Work on rows {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Multiply-adds below which handing work to another thread costs more than it saves; callers
     * size their chunks with {@link #minChunk}.
     */
    public static final int MIN_WORK_PER_CHUNK = 32 * 1024;

    private static volatile int threads = Integer.getInteger("pcw.threads", Runtime.getRuntime().availableProcessors());
    private static volatile ExecutorService pool;

    private Parallel() {}

    /** Worker count in use. */
    public static int threads() { return threads; }

    /** Changes the worker count (for example from {@code --threads}); takes effect for the next call. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1, got " + n);
        if (n != threads) {
            threads = n;
            ExecutorService old = pool;
            pool = null;
            if (old != null) old.shutdown();
        }
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    p = Executors.newFixedThreadPool(Math.max(1, threads - 1), r -> {
                        Thread t = new Thread(r, "pcw-kernel");
                        t.setDaemon(true);
                        return t;
                    });
                    pool = p;
                }
            }
        }
        return p;
    }

    /** The smallest chunk worth a thread when each row costs {@code workPerRow} multiply-adds. */
    public static int minChunk(long workPerRow) {
        return (int) Math.max(1, MIN_WORK_PER_CHUNK / Math.max(1, workPerRow));
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} chunks of at
     * least {@code minChunk} rows, and returns when all are done.
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        int chunks = Math.min(threads, Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(chunks - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ExecutorService p = pool();
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            p.execute(() -> {
                try {
                    body.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            body.run(0, (int) ((long) n / chunks));
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for kernel workers", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }
}
