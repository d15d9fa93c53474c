package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Encoder;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.SegmentSource;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.service.Rejected;
import io.grpc.Status;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The segments of one ask: from the generator's cache, else fetched from the encoder that
 * published it on {@code pcw.segments}, else (when allowed) encoded here. A segment's content id
 * is known before it exists ({@link Encoder#id}), so all three ways find the same segment.
 * Counts what each way served, for the answer's figures.
 */
final class MeshSegments implements SegmentSource {
    private static final Logger LOG = Logger.getLogger(MeshSegments.class);

    private final Model model;
    private final SegmentCache cache;
    private final SegmentFetcher fetcher;
    private final MeshView view;
    private final boolean encodeLocally;
    private final BooleanSupplier cancelled;
    private final Map<String, Encoder> encoders = new HashMap<>();
    int cacheHits;
    int fetched;
    long bytesFetched;
    long fetchNanos;
    int encodedHere;

    MeshSegments(Model model, SegmentCache cache, SegmentFetcher fetcher, MeshView view, boolean encodeLocally, BooleanSupplier cancelled) {
        this.model = model;
        this.cache = cache;
        this.fetcher = fetcher;
        this.view = view;
        this.encodeLocally = encodeLocally;
        this.cancelled = cancelled;
    }

    @Override
    public KvSegment encode(PositionEncoding positions, int[] tokens, int startPosition, ContextPlan context) {
        if (cancelled.getAsBoolean()) throw new Asks.Cancelled();
        Encoder encoder = encoders.computeIfAbsent(positions.describe(), d -> new Encoder(model, positions));
        String id = encoder.id(tokens, startPosition, context);
        KvSegment segment = cache.get(id);
        if (segment != null) {
            cacheHits++;
            return segment;
        }
        SegmentLocation location = view.location(id);
        if (location != null) {
            long start = System.nanoTime();
            try {
                segment = fetcher.fetch(location);
                fetchNanos += System.nanoTime() - start;
                fetched++;
                bytesFetched += location.getByteSize();
                cache.put(segment);
                return segment;
            } catch (SegmentFetcher.FetchFailed e) {
                LOG.warnf("%s; %s", e.getMessage(), encodeLocally ? "encoding it here" : "and encoding here is off");
            }
        }
        if (!encodeLocally) {
            throw new Rejected(Status.Code.UNAVAILABLE, "SEGMENT_UNAVAILABLE", "no encoder serves segment " + id
                    + " (" + tokens.length + " tokens at position " + startPosition + ") and pcw.segments.encode-locally is off");
        }
        segment = encoder.encode(tokens, startPosition, context);
        encodedHere++;
        cache.put(segment);
        return segment;
    }

    @Override
    public long tokensEncoded() {
        return encoders.values().stream().mapToLong(Encoder::tokensEncoded).sum();
    }

    @Override
    public long scoresComputed() {
        return encoders.values().stream().mapToLong(Encoder::scoresComputed).sum();
    }
}
