package dev.pcwmesh.runtime.kernel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Parallel#forRange} runs every row exactly once, whatever the worker count, in pieces of
 * whole grains, when it is called many times in a row (the workers' polling and parking), from several threads at once,
 * from inside a chunk, and when a chunk throws.
 */
class ParallelTest {
    private final int threadsBefore = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void everyRowOnceOverManyCallsAndWorkerCounts() {
        for (int threads : new int[]{3, 1, 2, 4}) {
            Parallel.setThreads(threads);
            for (int call = 0; call < 1000; call++) {
                int n = 1 + call % 37;
                assertCoveredOnce(n, call % 3 + 1, threads + " threads, call " + call);
            }
        }
    }

    @Test
    void piecesAreWholeGrainsButTheLast() {
        Parallel.setThreads(3);
        for (int n = 1; n < 100; n++) {
            int rows = n;
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Parallel.forRange(n, 1, 3, (from, to) -> {
                assertEquals(0, from % 3, "start of a piece of " + rows);
                if (to != rows) assertEquals(0, to % 3, "end of a piece of " + rows);
                for (int i = from; i < to; i++) seen.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "row " + i + " of " + n);
        }
    }

    @Test
    void workersThatParkedWakeForTheNextCall() throws InterruptedException {
        Parallel.setThreads(3);
        for (int i = 0; i < 5; i++) {
            assertCoveredOnce(64, 1, "before a pause");
            Thread.sleep(3);  // longer than the workers poll (200 microseconds), so they park
            assertCoveredOnce(64, 1, "after a pause");
        }
    }

    @Test
    void concurrentCallersEachGetTheirRowsOnce() throws Exception {
        Parallel.setThreads(2);
        ExecutorService callers = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                done.add(callers.submit(() -> {
                    for (int call = 0; call < 1000; call++) assertCoveredOnce(50, 1, "concurrent call " + call);
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aNestedCallRunsItsRangeToo() {
        Parallel.setThreads(2);
        AtomicIntegerArray inner = new AtomicIntegerArray(8 * 10);
        Parallel.forRange(8, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i;
                Parallel.forRange(10, 1, (a, b) -> {
                    for (int j = a; j < b; j++) inner.incrementAndGet(row * 10 + j);
                });
            }
        });
        for (int i = 0; i < inner.length(); i++) assertEquals(1, inner.get(i), "nested row " + i);
    }

    @Test
    void aFailingChunkFailsTheCallAndTheNextCallWorks() {
        Parallel.setThreads(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(10, 1, (from, to) -> {
            if (from <= 5 && 5 < to) throw new IllegalArgumentException("row 5");
        }));
        assertEquals("row 5", e.getMessage());
        assertCoveredOnce(10, 1, "after a failure");
    }

    private static void assertCoveredOnce(int n, int minChunk, String what) {
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        Parallel.forRange(n, minChunk, (from, to) -> {
            for (int i = from; i < to; i++) seen.incrementAndGet(i);
        });
        for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), what + ": row " + i + " of " + n);
    }
}
