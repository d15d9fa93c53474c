package dev.pcwmesh.encoder;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/** The one {@link SegmentStore} of the service, from {@code pcw.store.*}, with its gauges and counters. */
@ApplicationScoped
public class StoreProducer {
    private static final Logger LOG = Logger.getLogger(StoreProducer.class);

    @Produces
    @Singleton
    SegmentStore store(EncoderConfig config, MeterRegistry registry) {
        EncoderConfig.Store c = config.store();
        SegmentStore store = new SegmentStore(c.diskDir(), c.memoryBytes(), c.diskBytes());
        Gauge.builder("pcw.encoder.store.bytes", store, SegmentStore::memoryBytes).tag("tier", "memory")
                .description("Bytes of serialized segments held").baseUnit("bytes").register(registry);
        Gauge.builder("pcw.encoder.store.bytes", store, SegmentStore::diskBytes).tag("tier", "disk")
                .description("Bytes of serialized segments held").baseUnit("bytes").register(registry);
        Gauge.builder("pcw.encoder.store.segments", store, SegmentStore::memorySegments).tag("tier", "memory").register(registry);
        Gauge.builder("pcw.encoder.store.segments", store, SegmentStore::diskSegments).tag("tier", "disk").register(registry);
        FunctionCounter.builder("pcw.encoder.store.hits", store, SegmentStore::hits)
                .description("Segment reads the store answered (memory or disk)").register(registry);
        FunctionCounter.builder("pcw.encoder.store.misses", store, SegmentStore::misses)
                .description("Segment reads for a segment the store does not hold").register(registry);
        LOG.infof("segment store: %d bytes in memory, %d bytes on disk in %s (%d segments found there)",
                c.memoryBytes(), c.diskBytes(), c.diskDir().toAbsolutePath(), store.diskSegments());
        return store;
    }
}
