package dev.pcwmesh.runtime.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker per core that share a range of rows cut into contiguous pieces, a few per thread:
 * each thread, the caller among them, owns an equal share of the pieces and takes them in order,
 * then takes what is left of the others' shares, until none is left, so a one-core machine runs
 * with no hand-off at all. The number of threads is
 * {@code -Dpcw.threads=N} or the number of cores.
 *
 * <p>Why pieces and not one equal chunk per thread: on a shared machine (a VM whose other vCPU
 * the host also gives to someone else) one core can run at half speed for minutes. With equal
 * chunks every step then waits for that core, and two threads ran as fast as one (Qwen2.5-0.5B
 * Q4_0 pp512 209 against 175 on one thread, 300 on a quiet machine); pieces let the faster
 * core take more, as llama.cpp's threads take chunks from a shared counter. Why shares: taken
 * from one counter, a thread's pieces alternate with the other's, and each piece began a new
 * stream from memory (and a decode product's touches ahead, {@link Lanes#PREFETCH_BYTES}, fell
 * into the other thread's piece); a share is one stream until its owner is done.
 *
 * <p>Why the workers spin: one decoded token is a few hundred short parallel steps (every
 * matrix product, every layer's attention), each a few tens of microseconds. Waking a parked
 * thread for each (a futex call, then the scheduler) cost 5-20 microseconds a step, 10-20 % of
 * a token. So a worker that finds no piece left keeps polling for the next step for
 * {@code -Dpcw.spinMicros} (200 by default) before it parks, as llama.cpp's threads do, and
 * the caller polls for the pieces the workers took. A mesh service that goes idle parks its workers
 * within that time.
 *
 * <p>One caller uses the workers at a time. Another caller (a second request in the same JVM)
 * or a nested call from inside a piece runs its whole range on its own thread meanwhile: the
 * numbers are the same, since every row is computed the same way whichever thread takes it.
 */
public final class Parallel {

    /** Work on rows {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Multiply-adds below which handing work to another thread costs more than it saves; callers
     * size their pieces with {@link #minChunk}.
     */
    public static final int MIN_WORK_PER_CHUNK = 32 * 1024;

    private static final long SPIN_NANOS = Long.getLong("pcw.spinMicros", 200) * 1000;

    /** Pieces per thread: enough that a slow core's share is taken over, few enough that each stays a long run. */
    private static final int PIECES_PER_THREAD = 4;

    private static volatile int threads = Integer.getInteger("pcw.threads", Runtime.getRuntime().availableProcessors());
    private static volatile Workers workers;

    private Parallel() {}

    /** Worker count in use. */
    public static int threads() { return threads; }

    /** Changes the worker count (for example from {@code --threads}); takes effect for the next call. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1, got " + n);
        if (n != threads) {
            threads = n;
            Workers old = workers;
            workers = null;
            if (old != null) old.shutdown();
        }
    }

    private static Workers workers() {
        Workers w = workers;
        if (w == null) {
            synchronized (Parallel.class) {
                w = workers;
                if (w == null) {
                    w = new Workers(Math.max(1, threads - 1));
                    workers = w;
                }
            }
        }
        return w;
    }

    /** The smallest piece worth a thread when each row costs {@code workPerRow} multiply-adds. */
    public static int minChunk(long workPerRow) {
        return (int) Math.max(1, MIN_WORK_PER_CHUNK / Math.max(1, workPerRow));
    }

    /**
     * Runs {@code body} over {@code [0, n)} on at most {@link #threads()} threads, in pieces of
     * at least {@code minChunk} rows, and returns when all are done.
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        forRange(n, minChunk, 1, body);
    }

    /**
     * {@link #forRange(int, int, RangeBody)} with every piece but the last a multiple of
     * {@code grain} rows (a kernel's tile of row groups, so that no piece ends in a partial tile).
     */
    public static void forRange(int n, int minChunk, int grain, RangeBody body) {
        int grains = (n + grain - 1) / grain;
        int most = Math.max(1, Math.min(grains, n / Math.max(1, minChunk)));
        int participants = Math.min(threads, most);
        Workers w = participants <= 1 ? null : workers();
        if (w == null || !w.busy.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        Job job;
        try {
            participants = Math.min(participants, w.threads.length + 1);
            job = new Job(body, n, grain, Math.min(most, participants * PIECES_PER_THREAD), participants);
            w.start(job, participants - 1);
            job.runPieces(0);
            job.awaitWorkers();
        } finally {
            w.busy.set(false);
        }
        Throwable t = job.failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }

    /**
     * One step of polling that began at {@code start}, or false once it has lasted
     * {@code SPIN_NANOS} (then the poller parks). The first eighth of that time spins; the rest
     * yields the core in each step, so that on a machine with more runnable threads than cores
     * (another process, more workers than cores) the thread being waited for gets to run.
     */
    private static boolean pause(long start) {
        long waited = System.nanoTime() - start;
        if (waited >= SPIN_NANOS) return false;
        if (waited < SPIN_NANOS / 8) Thread.onSpinWait();
        else Thread.yield();
        return true;
    }

    /**
     * One call's range in {@code pieces} pieces of whole grains, in one share of consecutive
     * pieces per participant: each share's pieces are taken in order, by its owner first.
     */
    private static final class Job {
        final RangeBody body;
        final int n;
        final int grains;
        final int grain;
        final int pieces;
        final int shares;
        /** Per share: the next of its pieces to take (past its end once all are taken). */
        final AtomicInteger[] next;
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(RangeBody body, int n, int grain, int pieces, int shares) {
            this.body = body;
            this.n = n;
            this.grain = grain;
            this.grains = (n + grain - 1) / grain;
            this.pieces = pieces;
            this.shares = shares;
            this.next = new AtomicInteger[shares];
            for (int s = 0; s < shares; s++) next[s] = new AtomicInteger(shareStart(s));
        }

        private int shareStart(int share) {
            return (int) ((long) pieces * share / shares);
        }

        /** Runs the pieces of thread {@code self}'s share, then those left of the others', until none is left to take. */
        void runPieces(int self) {
            for (int i = 0; i < shares; i++) {
                int share = (self + i) % shares, end = shareStart(share + 1);
                for (int p; (p = next[share].getAndIncrement()) < end; ) run(p);
            }
        }

        private void run(int p) {
            try {
                int from = (int) ((long) grains * p / pieces) * grain;
                int to = Math.min(n, (int) ((long) grains * (p + 1) / pieces) * grain);
                body.run(from, to);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                done.incrementAndGet();
            }
        }

        /** Polls for the pieces other threads took, then (a worker descheduled on a busy machine) sleeps in short steps. */
        void awaitWorkers() {
            long start = System.nanoTime();
            while (done.get() < pieces) {
                if (!pause(start)) LockSupport.parkNanos(20_000);
            }
        }
    }

    /** The worker threads: each polls {@link #current} for a job it has not run yet, then parks. */
    private static final class Workers {
        final Thread[] threads;
        /** Set while a caller's job runs on the workers. */
        final AtomicBoolean busy = new AtomicBoolean();
        volatile Job current;
        volatile boolean stopped;
        /** Per worker: whether it is parked (or about to park), so {@link #start} must unpark it. */
        final AtomicBoolean[] parked;

        Workers(int count) {
            threads = new Thread[count];
            parked = new AtomicBoolean[count];
            for (int i = 0; i < count; i++) {
                int index = i;
                parked[i] = new AtomicBoolean();
                threads[i] = new Thread(() -> loop(index), "pcw-kernel");
                threads[i].setDaemon(true);
                threads[i].start();
            }
        }

        /** Offers {@code job} to the workers, waking the first {@code helpers} of them where parked. */
        void start(Job job, int helpers) {
            current = job;
            // After the write of current: a worker that set parked before it reads current again
            // either sees this job or is unparked here (both fields are volatile).
            for (int i = 0; i < helpers; i++) {
                if (parked[i].get()) LockSupport.unpark(threads[i]);
            }
        }

        private void loop(int index) {
            Job last = null;
            while (!stopped) {
                Job job = awaitNew(last, index);
                if (job == null) return;
                last = job;
                job.runPieces(index + 1);
            }
        }

        /** The next job other than {@code last}, polling for a while and then parked; null once stopped. */
        private Job awaitNew(Job last, int index) {
            long start = System.nanoTime();
            AtomicBoolean flag = parked[index];
            while (true) {
                Job job = current;
                if (job != last) return job;
                if (stopped) return null;
                if (!pause(start)) {
                    flag.set(true);
                    if (current == last && !stopped) LockSupport.park(this);
                    flag.set(false);
                }
            }
        }

        /** Waits for a running job, then stops the workers; no job starts after (busy stays set). */
        void shutdown() {
            while (!busy.compareAndSet(false, true)) Thread.onSpinWait();
            stopped = true;
            for (Thread t : threads) LockSupport.unpark(t);
        }
    }
}
