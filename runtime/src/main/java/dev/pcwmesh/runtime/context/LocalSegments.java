package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Model;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Segments encoded in this process, one {@link Encoder} per position encoding, remembered by
 * content id so that a strategy asking twice for the same window (a prefix shared by several
 * plans, a window kept by selection) encodes it once. The memory is bounded: the least recently
 * used segments are forgotten beyond {@code maxBytes}. Not thread-safe.
 */
public final class LocalSegments implements SegmentSource {
    /** The default bound on remembered segments. */
    public static final long DEFAULT_MAX_BYTES = 1L << 30;

    private final Model model;
    private final long maxBytes;
    private final Map<String, Encoder> encoders = new HashMap<>();
    private final LinkedHashMap<String, KvSegment> segments = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    public LocalSegments(Model model) {
        this(model, DEFAULT_MAX_BYTES);
    }

    public LocalSegments(Model model, long maxBytes) {
        if (maxBytes < 0) throw new IllegalArgumentException("the segment memory bound must be non-negative, got " + maxBytes);
        this.model = model;
        this.maxBytes = maxBytes;
    }

    @Override
    public KvSegment encode(PositionEncoding positions, int[] tokens, int startPosition, ContextPlan context) {
        Encoder encoder = encoders.computeIfAbsent(positions.describe(), d -> new Encoder(model, positions));
        String id = encoder.id(tokens, startPosition, context);
        KvSegment known = segments.get(id);
        if (known != null) return known;
        KvSegment s = encoder.encode(tokens, startPosition, context);
        segments.put(id, s);
        bytes += s.byteSize();
        var oldest = segments.entrySet().iterator();
        while (bytes > maxBytes && oldest.hasNext()) {
            bytes -= oldest.next().getValue().byteSize();
            oldest.remove();
        }
        return s;
    }

    /** Bytes of the segments remembered now. */
    public long bytes() { return bytes; }

    @Override
    public long tokensEncoded() {
        return encoders.values().stream().mapToLong(Encoder::tokensEncoded).sum();
    }

    @Override
    public long scoresComputed() {
        return encoders.values().stream().mapToLong(Encoder::scoresComputed).sum();
    }
}
