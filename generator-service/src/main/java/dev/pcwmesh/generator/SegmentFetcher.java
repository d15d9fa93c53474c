package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.EncoderGrpc;
import dev.pcwmesh.proto.v1.FetchRequest;
import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.mesh.SegmentParts;
import dev.pcwmesh.proto.v1.SegmentPart;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.kv.KvSegmentCodec;
import dev.pcwmesh.service.security.MeshChannels;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Fetches serialized segments from the encoder that holds them ({@code Encoder.FetchSegments}),
 * part by part, each checked by {@link SegmentParts.Assembler} (offsets contiguous, CRC-32C,
 * total size); a stream that breaks off or brings a bad part is resumed from the bytes already
 * received, up to three times. One channel per encoder address, kept for the life of the service:
 * plaintext, or TLS trusting {@code pcw.security.client.ca-file} and, for mutual TLS, presenting
 * {@code cert-file}/{@code key-file}; every call carries {@code pcw.security.client.api-key(-file)}
 * when one is set.
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
    private final ChannelCredentials credentials;
    private final CallCredentials callCredentials;

    public SegmentFetcher(GeneratorConfig config) {
        this.config = config.segments();
        GeneratorConfig.Client client = config.security().client();
        this.credentials = MeshChannels.credentials(client.tls(), client.caFile(), client.certFile(), client.keyFile());
        Optional<String> key = client.apiKeyFile().map(SegmentFetcher::readKey).or(client::apiKey).filter(k -> !k.isBlank());
        this.callCredentials = key.map(MeshChannels::apiKey).orElse(null);
    }

    private static String readKey(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.readString(file).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read pcw.security.client.api-key-file " + file, e);
        }
    }

    /** The segment the location names, checked to be that segment. */
    public KvSegment fetch(SegmentLocation location) throws FetchFailed {
        SegmentParts.Assembler parts = new SegmentParts.Assembler(location.getSegmentId());
        RuntimeException last = null;
        for (int attempt = 0; attempt < ATTEMPTS && !parts.complete(); attempt++) {
            try {
                receive(location, parts);
            } catch (StatusRuntimeException | SegmentParts.TransferException e) {
                last = e;
                LOG.debugf("fetching %s from %s broke off after %d bytes: %s", location.getSegmentId(), location.getEncoderAddress(),
                        parts.bytesReceived(), e.getMessage());
            }
        }
        KvSegment segment;
        try {
            segment = KvSegmentCodec.fromBytes(parts.result());
        } catch (RuntimeException e) {
            throw new FetchFailed("segment " + location.getSegmentId() + " from " + location.getEncoderAddress() + ": " + e.getMessage()
                    + (last == null || last == e ? "" : " (last error: " + last.getMessage() + ")"), e);
        }
        if (!segment.id().equals(location.getSegmentId())) {
            throw new FetchFailed("asked " + location.getEncoderAddress() + " for segment " + location.getSegmentId() + ", got " + segment.id(), null);
        }
        return segment;
    }

    /** Streams the segment from the bytes already received on, each part checked by the assembler. */
    private void receive(SegmentLocation location, SegmentParts.Assembler parts) {
        EncoderGrpc.EncoderBlockingStub stub = EncoderGrpc.newBlockingStub(channel(location.getEncoderAddress()));
        if (callCredentials != null) stub = stub.withCallCredentials(callCredentials);
        Iterator<SegmentPart> stream = stub
                .withDeadlineAfter(config.fetchTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .fetchSegments(FetchRequest.newBuilder().setSegmentId(location.getSegmentId()).setOffset(parts.bytesReceived()).build());
        while (stream.hasNext()) {
            SegmentPart p = stream.next();
            parts.accept(p.getOffset(), p.getTotalBytes(), p.getData().toByteArray(), p.getCrc32C());
        }
    }

    private ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> Grpc.newChannelBuilder(a, credentials)
                .maxInboundMessageSize(config.maxInboundMessageBytes()).build());
    }

    @PreDestroy
    void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
