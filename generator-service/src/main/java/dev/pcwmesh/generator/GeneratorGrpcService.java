package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.DocumentRef;
import dev.pcwmesh.proto.v1.Generator;
import dev.pcwmesh.service.Rejected;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PreDestroy;
import org.jboss.logging.Logger;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code pcwmesh.v1.Generator} over gRPC. An ask takes a slot at once (RESOURCE_EXHAUSTED when
 * none is free) and runs on the generator's own threads, one per slot, streaming text events and
 * then the figures. When the client cancels or its deadline passes, the ask stops at its next
 * segment or token and its slot is freed.
 */
@GrpcService
public class GeneratorGrpcService implements Generator {
    private static final Logger LOG = Logger.getLogger(GeneratorGrpcService.class);

    private final Asks asks;
    private final MeshView view;
    private final ExecutorService workers;

    public GeneratorGrpcService(Asks asks, MeshView view, GeneratorConfig config) {
        this.asks = asks;
        this.view = view;
        this.workers = Executors.newFixedThreadPool(config.limits().maxConcurrentAsks(), Thread.ofPlatform().name("pcw-ask-", 0).daemon().factory());
    }

    @Override
    public Multi<AnswerEvent> ask(AskRequest request) {
        Context call = Context.current();
        Deadline deadline = call.getDeadline();
        return Multi.createFrom().emitter(emitter -> {
            try {
                asks.acquire();
            } catch (Rejected e) {
                emitter.fail(e.toStatus());
                return;
            }
            AtomicBoolean gone = new AtomicBoolean();
            emitter.onTermination(() -> gone.set(true));
            long deadlineNanos = deadline == null ? Long.MAX_VALUE : System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
            workers.execute(() -> {
                try {
                    AnswerFigures figures = asks.answer(request, text -> emitter.emit(AnswerEvent.newBuilder().setText(text).build()),
                            () -> gone.get() || call.isCancelled(), deadlineNanos);
                    emitter.emit(AnswerEvent.newBuilder().setDone(figures).build());
                    emitter.complete();
                } catch (Rejected e) {
                    emitter.fail(e.toStatus());
                } catch (Asks.Cancelled e) {
                    LOG.debugf("ask %s cancelled by the caller", request.getRequestId());
                    if (!emitter.isCancelled()) emitter.fail(Status.CANCELLED.withDescription("cancelled").asRuntimeException());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    emitter.fail(Status.UNAVAILABLE.withDescription("the generator is shutting down").asRuntimeException());
                } catch (RuntimeException e) {
                    LOG.error("ask failed", e);
                    emitter.fail(Status.INTERNAL.withDescription("INTERNAL: " + e).withCause(e).asRuntimeException());
                } finally {
                    asks.release();
                }
            });
        });
    }

    @Override
    public Uni<DocumentManifest> getDocument(DocumentRef request) {
        MeshView.DocumentState d = view.document(request.getDocumentId());
        if (d == null) {
            return Uni.createFrom().failure(new Rejected(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT",
                    "no document '" + request.getDocumentId() + "'").toStatus());
        }
        return Uni.createFrom().item(d.manifest());
    }

    @PreDestroy
    void close() {
        workers.shutdownNow();
    }
}
