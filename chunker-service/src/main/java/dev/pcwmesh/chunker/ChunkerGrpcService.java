package dev.pcwmesh.chunker;

import dev.pcwmesh.proto.v1.Chunker;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.proto.v1.SplitRequest;
import dev.pcwmesh.proto.v1.SplitResponse;
import dev.pcwmesh.service.Rejected;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.Logger;

import java.util.concurrent.Semaphore;

/**
 * {@code pcwmesh.v1.Chunker} over gRPC. Tokenizing and publishing block, so both methods run on worker
 * threads. A refused request becomes its status (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...) with the
 * reason in the {@code pcw-reason} trailer; anything unexpected becomes INTERNAL.
 */
@GrpcService
public class ChunkerGrpcService implements Chunker {
    private static final Logger LOG = Logger.getLogger(ChunkerGrpcService.class);

    private final Documents documents;
    private final Semaphore slots;
    private final int maxConcurrent;

    public ChunkerGrpcService(Documents documents, ChunkerConfig config) {
        this.documents = documents;
        this.maxConcurrent = config.limits().maxConcurrentRequests();
        this.slots = new Semaphore(maxConcurrent);
    }

    @Override
    @Blocking
    public Uni<SplitResponse> split(SplitRequest request) {
        return call(() -> documents.split(request));
    }

    @Override
    @Blocking
    public Uni<DocumentManifest> ingest(IngestRequest request) {
        return call(() -> documents.ingest(request, "grpc"));
    }

    private <T> Uni<T> call(java.util.function.Supplier<T> body) {
        if (!slots.tryAcquire()) {
            return Uni.createFrom().failure(new Rejected(Status.Code.RESOURCE_EXHAUSTED, "BUSY",
                    maxConcurrent + " requests are being served (pcw.limits.max-concurrent-requests); retry later").toStatus());
        }
        try {
            return Uni.createFrom().item(body.get());
        } catch (Rejected e) {
            return Uni.createFrom().failure(e.toStatus());
        } catch (RuntimeException e) {
            LOG.error("request failed", e);
            return Uni.createFrom().failure(Status.INTERNAL.withDescription("INTERNAL: " + e).withCause(e).asRuntimeException());
        } finally {
            slots.release();
        }
    }
}
