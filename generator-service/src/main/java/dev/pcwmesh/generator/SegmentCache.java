package dev.pcwmesh.generator;

import dev.pcwmesh.runtime.kv.KvSegment;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Segments this generator has fetched or encoded, by content id, shared by every ask: a second
 * question about a document finds its windows here and fetches nothing. Bounded in bytes
 * ({@code pcw.segments.cache-bytes}); the least recently used segments go first. A segment a
 * plan still holds stays alive in that plan after eviction, so eviction never breaks an answer.
 */
@ApplicationScoped
public class SegmentCache {
    private final long maxBytes;
    private final LinkedHashMap<String, KvSegment> segments = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    public SegmentCache(GeneratorConfig config, MeterRegistry registry) {
        this.maxBytes = config.segments().cacheBytes();
        registry.gauge("pcw.generator.cache.bytes", this, SegmentCache::bytes);
        registry.gauge("pcw.generator.cache.segments", this, SegmentCache::size);
    }

    public synchronized KvSegment get(String id) {
        return segments.get(id);
    }

    public synchronized void put(KvSegment segment) {
        KvSegment old = segments.put(segment.id(), segment);
        if (old != null) bytes -= old.byteSize();
        bytes += segment.byteSize();
        var oldest = segments.entrySet().iterator();
        while (bytes > maxBytes && oldest.hasNext()) {
            Map.Entry<String, KvSegment> e = oldest.next();
            bytes -= e.getValue().byteSize();
            oldest.remove();
        }
    }

    public synchronized long bytes() { return bytes; }

    public synchronized int size() { return segments.size(); }
}
