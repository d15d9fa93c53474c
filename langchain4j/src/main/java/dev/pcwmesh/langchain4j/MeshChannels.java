package dev.pcwmesh.langchain4j;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

import java.util.concurrent.TimeUnit;

/** The gRPC channels of this module's models, retriever and ingestor: one per object, to one service. */
final class MeshChannels {
    /** Inbound messages up to this size (as MeshClient: a Rank of every window of a long document is the largest). */
    private static final int MAX_INBOUND_BYTES = 16 << 20;

    private MeshChannels() {}

    /** A plaintext channel to a service at {@code host:port} (the mesh's services speak gRPC without TLS). */
    static ManagedChannel open(String address, String what) {
        if (address == null || address.isBlank()) throw new IllegalArgumentException(what + " address (host:port) is required");
        return ManagedChannelBuilder.forTarget(address).usePlaintext().maxInboundMessageSize(MAX_INBOUND_BYTES).build();
    }

    /** Closes a channel, cancelling calls still running, and waits briefly for it to terminate. */
    static void close(ManagedChannel channel) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
