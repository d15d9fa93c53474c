package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.EncoderGrpc;
import dev.pcwmesh.proto.v1.FetchRequest;
import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.proto.v1.SegmentPart;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.kv.KvSegmentCodec;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.ByteArrayOutputStream;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Fetches serialized segments from the encoder that holds them ({@code Encoder.FetchSegments}),
 * part by part: each part's offset must follow the bytes received so far and its CRC-32C must
 * match, and a stream that breaks off is resumed from the bytes already received. One plaintext
 * channel per encoder address, kept for the life of the service.
 */
@ApplicationScoped
public class SegmentFetcher {
    private static final Logger LOG = Logger.getLogger(SegmentFetcher.class);
    private static final int ATTEMPTS = 3;

    /** A segment could not be fetched; the caller may encode it itself. */
    public static final class FetchFailed extends Exception {
        FetchFailed(String message, Throwable cause) { super(message, cause); }
    }

    private final GeneratorConfig.Segments config;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    public SegmentFetcher(GeneratorConfig config) {
        this.config = config.segments();
    }

    /** The segment the location names, checked to be that segment. */
    public KvSegment fetch(SegmentLocation location) throws FetchFailed {
        ByteArrayOutputStream received = new ByteArrayOutputStream((int) Math.max(0, Math.min(location.getByteSize(), Integer.MAX_VALUE - 8)));
        long total = -1;
        StatusRuntimeException last = null;
        for (int attempt = 0; attempt < ATTEMPTS && received.size() != total; attempt++) {
            try {
                total = receive(location, received);
            } catch (StatusRuntimeException e) {
                last = e;
                LOG.debugf("fetching %s from %s broke off after %d bytes: %s", location.getSegmentId(), location.getEncoderAddress(), received.size(), e.getStatus());
            }
        }
        if (received.size() != total) {
            throw new FetchFailed("segment " + location.getSegmentId() + " from " + location.getEncoderAddress() + ": received "
                    + received.size() + " of " + total + " bytes" + (last == null ? "" : " (" + last.getStatus() + ")"), last);
        }
        KvSegment segment;
        try {
            segment = KvSegmentCodec.fromBytes(received.toByteArray());
        } catch (RuntimeException e) {
            throw new FetchFailed("segment " + location.getSegmentId() + " from " + location.getEncoderAddress() + " does not decode: " + e.getMessage(), e);
        }
        if (!segment.id().equals(location.getSegmentId())) {
            throw new FetchFailed("asked " + location.getEncoderAddress() + " for segment " + location.getSegmentId() + ", got " + segment.id(), null);
        }
        return segment;
    }

    /** Streams from {@code received.size()} on, appending verified parts; returns the segment's total size. */
    private long receive(SegmentLocation location, ByteArrayOutputStream received) throws FetchFailed {
        Iterator<SegmentPart> parts = EncoderGrpc.newBlockingStub(channel(location.getEncoderAddress()))
                .withDeadlineAfter(config.fetchTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .fetchSegments(FetchRequest.newBuilder().setSegmentId(location.getSegmentId()).setOffset(received.size()).build());
        long total = -1;
        while (parts.hasNext()) {
            SegmentPart part = parts.next();
            if (part.getOffset() != received.size()) {
                throw new FetchFailed("segment " + location.getSegmentId() + ": part at offset " + part.getOffset() + ", expected " + received.size(), null);
            }
            CRC32C crc = new CRC32C();
            crc.update(part.getData().asReadOnlyByteBuffer());
            if ((int) crc.getValue() != part.getCrc32C()) {
                throw new FetchFailed("segment " + location.getSegmentId() + ": corrupted part at offset " + part.getOffset() + " (CRC-32C mismatch)", null);
            }
            total = part.getTotalBytes();
            received.writeBytes(part.getData().toByteArray());
        }
        return total < 0 ? received.size() : total;
    }

    private ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> ManagedChannelBuilder.forTarget(a).usePlaintext()
                .maxInboundMessageSize(config.maxInboundMessageBytes()).build());
    }

    @PreDestroy
    void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
