package dev.pcwmesh.encoder;

import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.Semaphore;

/**
 * The synchronous Encode calls served at once ({@code pcw.limits.max-concurrent-encodes}). A call that
 * finds no free slot is refused at once with RESOURCE_EXHAUSTED rather than queued: encoding is CPU
 * bound, and a queue would only turn overload into deadlines missed later.
 */
@ApplicationScoped
public class EncodeSlots {
    private final Semaphore slots;
    private final int max;

    public EncodeSlots(EncoderConfig config) {
        this.max = config.limits().maxConcurrentEncodes();
        this.slots = new Semaphore(max);
    }

    public boolean tryAcquire() { return slots.tryAcquire(); }

    public void release() { slots.release(); }

    public int max() { return max; }

    /** Takes every free slot (tests use it to make the service busy without racing real calls); returns how many. */
    public int drain() { return slots.drainPermits(); }

    public void release(int n) { slots.release(n); }
}
