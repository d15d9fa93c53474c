package dev.pcwmesh.encoder;

import com.google.protobuf.UnsafeByteOperations;
import dev.pcwmesh.mesh.SegmentParts;
import dev.pcwmesh.proto.v1.EncodeRequest;
import dev.pcwmesh.proto.v1.EncodeResponse;
import dev.pcwmesh.proto.v1.Encoder;
import dev.pcwmesh.proto.v1.FetchRequest;
import dev.pcwmesh.proto.v1.SegmentPart;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.service.Rejected;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * {@code pcwmesh.v1.Encoder} over gRPC, on worker threads (encoding and disk reads block). A refused
 * request becomes its status with the reason in the {@code pcw-reason} trailer:
 * <ul>
 *   <li>Encode: INVALID_ARGUMENT EMPTY (no prefix and no window), TOO_MANY_WINDOWS, EMPTY_WINDOW, BAD_TOKEN,
 *       WINDOW_TOO_LONG, PREFIX_TOO_LONG, BAD_POSITIONS; FAILED_PRECONDITION WRONG_MODEL; RESOURCE_EXHAUSTED
 *       BUSY beyond {@code pcw.limits.max-concurrent-encodes};</li>
 *   <li>FetchSegments: INVALID_ARGUMENT BAD_SEGMENT_ID or BAD_OFFSET (negative); NOT_FOUND UNKNOWN_SEGMENT;
 *       OUT_OF_RANGE BAD_OFFSET (at or beyond the end).</li>
 * </ul>
 * Anything unexpected becomes INTERNAL.
 */
@GrpcService
public class EncoderGrpcService implements Encoder {
    private static final Logger LOG = Logger.getLogger(EncoderGrpcService.class);

    private final WindowEncoder encoder;
    private final SegmentStore store;
    private final EncodeSlots slots;
    private final EncoderConfig config;
    private final Counter bytesServed;
    private final Counter partsServed;

    public EncoderGrpcService(WindowEncoder encoder, SegmentStore store, EncodeSlots slots, EncoderConfig config, MeterRegistry registry) {
        this.encoder = encoder;
        this.store = store;
        this.slots = slots;
        this.config = config;
        this.bytesServed = Counter.builder("pcw.encoder.served.bytes").description("Segment bytes sent by FetchSegments").baseUnit("bytes").register(registry);
        this.partsServed = Counter.builder("pcw.encoder.served.parts").description("Segment parts sent by FetchSegments").register(registry);
    }

    /** The prefix (when there is one) and every window, encoded or found stored; their locations in that order. Nothing is published. */
    @Override
    @Blocking
    public Uni<EncodeResponse> encode(EncodeRequest request) {
        if (!slots.tryAcquire()) {
            return Uni.createFrom().failure(new Rejected(Status.Code.RESOURCE_EXHAUSTED, "BUSY", slots.max()
                    + " Encode calls are being served (pcw.limits.max-concurrent-encodes); retry later").toStatus());
        }
        try {
            return Uni.createFrom().item(encodeNow(request));
        } catch (Rejected e) {
            return Uni.createFrom().failure(e.toStatus());
        } catch (RuntimeException e) {
            LOG.error("Encode failed", e);
            return Uni.createFrom().failure(Status.INTERNAL.withDescription("INTERNAL: " + e).withCause(e).asRuntimeException());
        } finally {
            slots.release();
        }
    }

    private EncodeResponse encodeNow(EncodeRequest request) {
        int[] prefix = request.getPrefixTokensList().stream().mapToInt(Integer::intValue).toArray();
        List<Window> windows = request.getWindowsList();
        if (prefix.length == 0 && windows.isEmpty()) throw Rejected.invalid("EMPTY", "the request holds neither prefix tokens nor windows");
        int max = config.limits().maxWindowsPerRequest();
        if (windows.size() > max) {
            throw Rejected.invalid("TOO_MANY_WINDOWS", windows.size() + " windows in one request; at most " + max + " (pcw.limits.max-windows-per-request)");
        }
        PositionEncoding positions = encoder.positions(request.getPositions());
        // Check everything before encoding anything: a bad last window refuses the whole request at once.
        for (int i = 0; i < windows.size(); i++) {
            Window w = windows.get(i);
            encoder.check(w.getModelFingerprint(), false, prefix, tokens(w), "window " + i + " of the request");
        }
        if (windows.isEmpty()) encoder.check("", false, new int[0], prefix, "the prefix");
        String document = windows.isEmpty() ? "" : windows.getFirst().getDocumentId();
        EncodeResponse.Builder out = EncodeResponse.newBuilder();
        if (prefix.length > 0) out.addSegments(encoder.location(encoder.storePrefix(prefix, positions), document, -1, positions));
        for (Window w : windows) {
            WindowEncoder.Stored s = encoder.storeWindow(prefix, tokens(w), positions);
            out.addSegments(encoder.location(s, w.getDocumentId(), w.getIndex(), positions));
        }
        return out.build();
    }

    /** The serialized segment from {@code offset} in parts of at most {@code pcw.encoder.part-bytes}, each with its CRC-32C. */
    @Override
    @Blocking
    public Multi<SegmentPart> fetchSegments(FetchRequest request) {
        try {
            String id = request.getSegmentId();
            if (!SegmentStore.validId(id)) throw Rejected.invalid("BAD_SEGMENT_ID", "not a segment id (64 lower-case hex digits): '" + id + "'");
            byte[] bytes = store.get(id);
            if (bytes == null) {
                throw new Rejected(Status.Code.NOT_FOUND, "UNKNOWN_SEGMENT", "this encoder (" + encoder.address() + ") does not hold segment " + id
                        + "; any encoder re-encodes it from its window (Encode)");
            }
            List<SegmentParts.Part> parts;
            try {
                parts = SegmentParts.split(bytes, request.getOffset(), config.encoder().partBytes());
            } catch (IndexOutOfBoundsException e) {
                throw new Rejected(Status.Code.OUT_OF_RANGE, "BAD_OFFSET", e.getMessage());
            } catch (IllegalArgumentException e) {
                throw Rejected.invalid("BAD_OFFSET", e.getMessage());
            }
            return Multi.createFrom().iterable(parts)
                    .map(p -> SegmentPart.newBuilder()
                            .setSegmentId(id)
                            .setOffset(p.offset())
                            .setTotalBytes(p.totalBytes())
                            .setData(UnsafeByteOperations.unsafeWrap(p.data()))      // a fresh copy, never written again
                            .setCrc32C(p.crc32c())
                            .build())
                    .onItem().invoke(p -> {
                        bytesServed.increment(p.getData().size());
                        partsServed.increment();
                    });
        } catch (Rejected e) {
            return Multi.createFrom().failure(e.toStatus());
        } catch (RuntimeException e) {
            LOG.error("FetchSegments failed", e);
            return Multi.createFrom().failure(Status.INTERNAL.withDescription("INTERNAL: " + e).withCause(e).asRuntimeException());
        }
    }

    private static int[] tokens(Window w) {
        return w.getTokensList().stream().mapToInt(Integer::intValue).toArray();
    }
}
