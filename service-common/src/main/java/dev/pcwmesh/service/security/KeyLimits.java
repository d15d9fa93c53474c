package dev.pcwmesh.service.security;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * At most {@code max} concurrent calls per API key name (0: no limit). Taken with
 * {@link #tryAcquire} (never waits), given back with {@link #release}.
 */
public final class KeyLimits {
    private final int max;
    private final Map<String, Semaphore> perKey = new ConcurrentHashMap<>();

    public KeyLimits(int max) {
        if (max < 0) throw new IllegalArgumentException("a per-key limit is 0 (none) or more, got " + max);
        this.max = max;
    }

    public int max() { return max; }

    /** Takes one of the key's slots; false when all are taken. A null key (no authentication) is not limited. */
    public boolean tryAcquire(String key) {
        if (max == 0 || key == null) return true;
        return perKey.computeIfAbsent(key, k -> new Semaphore(max)).tryAcquire();
    }

    public void release(String key) {
        if (max == 0 || key == null) return;
        Semaphore s = perKey.get(key);
        if (s != null) s.release();
    }

    /** The key's calls running now. */
    public int inUse(String key) {
        Semaphore s = key == null ? null : perKey.get(key);
        return s == null ? 0 : max - s.availablePermits();
    }
}
