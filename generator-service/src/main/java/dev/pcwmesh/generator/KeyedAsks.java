package dev.pcwmesh.generator;

import dev.pcwmesh.service.Rejected;
import dev.pcwmesh.service.security.KeyLimits;
import io.grpc.Status;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * The slot of an ask from an authenticated caller: first one of its key's
 * {@code pcw.security.max-concurrent-asks-per-key} slots, then one of {@link Asks}'s. Either
 * refusal is RESOURCE_EXHAUSTED at once (KEY_BUSY, BUSY); {@link #release} gives both back. A null
 * key (security off) takes only the mesh's slot.
 */
@ApplicationScoped
public class KeyedAsks {
    private static final Logger LOG = Logger.getLogger(KeyedAsks.class);

    private final Asks asks;
    private final KeyLimits limits;

    public KeyedAsks(Asks asks, GeneratorConfig config) {
        this.asks = asks;
        this.limits = new KeyLimits(config.security().maxConcurrentAsksPerKey());
    }

    public void acquire(String key) {
        LOG.debugf("an ask of key %s; the key has %d running", key, limits.inUse(key));
        if (!limits.tryAcquire(key)) {
            LOG.infof("refused an ask of key '%s': its %d asks are running", key, limits.max());
            throw new Rejected(Status.Code.RESOURCE_EXHAUSTED, "KEY_BUSY", "this API key has " + limits.max()
                    + " asks running (pcw.security.max-concurrent-asks-per-key); retry later");
        }
        try {
            asks.acquire();
        } catch (RuntimeException e) {
            limits.release(key);
            throw e;
        }
    }

    public void release(String key) {
        asks.release();
        limits.release(key);
    }
}
