package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.DocumentRef;
import dev.pcwmesh.proto.v1.Generator;
import dev.pcwmesh.proto.v1.RankRequest;
import dev.pcwmesh.proto.v1.RankResponse;
import dev.pcwmesh.service.Rejected;
import dev.pcwmesh.service.security.ApiKeyGrpcInterceptor;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PreDestroy;
import org.jboss.logging.Logger;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code pcwmesh.v1.Generator} over gRPC. An ask or a rank takes a slot at once (RESOURCE_EXHAUSTED
 * when none is free) and runs on the generator's own threads, one per slot; an ask streams text
 * events and then the figures. When the client cancels or its deadline passes, the work stops at
 * its next segment or token and its slot is freed.
 */
@GrpcService
public class GeneratorGrpcService implements Generator {
    private static final Logger LOG = Logger.getLogger(GeneratorGrpcService.class);

    private final KeyedAsks asks;
    private final MeshView view;
    private final ExecutorService workers;

    private final Asks answers;

    public GeneratorGrpcService(Asks answers, KeyedAsks asks, MeshView view, GeneratorConfig config) {
        this.answers = answers;
        this.asks = asks;
        this.view = view;
        this.workers = Executors.newFixedThreadPool(config.limits().maxConcurrentAsks(), Thread.ofPlatform().name("pcw-ask-", 0).daemon().factory());
    }

    @Override
    public Multi<AnswerEvent> ask(AskRequest request) {
        Context call = Context.current();
        Deadline deadline = call.getDeadline();
        String key = ApiKeyGrpcInterceptor.KEY_NAME.get(call);
        return Multi.createFrom().emitter(emitter -> {
            try {
                asks.acquire(key);
            } catch (Rejected e) {
                emitter.fail(e.toStatus());
                return;
            }
            AtomicBoolean gone = new AtomicBoolean();
            emitter.onTermination(() -> gone.set(true));
            long deadlineNanos = deadline == null ? Long.MAX_VALUE : System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
            run(key, emitter::fail, () -> {
                AnswerFigures figures = answers.answer(request, text -> emitter.emit(AnswerEvent.newBuilder().setText(text).build()),
                        () -> gone.get() || call.isCancelled(), deadlineNanos);
                emitter.emit(AnswerEvent.newBuilder().setDone(figures).build());
                emitter.complete();
            }, () -> {
                LOG.debugf("ask %s cancelled by the caller", request.getRequestId());
                if (!emitter.isCancelled()) emitter.fail(Status.CANCELLED.withDescription("cancelled").asRuntimeException());
            });
        });
    }

    @Override
    public Uni<RankResponse> rank(RankRequest request) {
        Context call = Context.current();
        Deadline deadline = call.getDeadline();
        String key = ApiKeyGrpcInterceptor.KEY_NAME.get(call);
        return Uni.createFrom().emitter(emitter -> {
            try {
                asks.acquire(key);
            } catch (Rejected e) {
                emitter.fail(e.toStatus());
                return;
            }
            long deadlineNanos = deadline == null ? Long.MAX_VALUE : System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
            run(key, emitter::fail, () -> emitter.complete(answers.rank(request, call::isCancelled, deadlineNanos)),
                    () -> emitter.fail(Status.CANCELLED.withDescription("cancelled").asRuntimeException()));
        });
    }

    /** Work that may throw InterruptedException: an ask or a rank in the slot its caller took. */
    private interface SlotWork {
        void run() throws InterruptedException;
    }

    /**
     * Runs {@code work} on a worker, releasing the slot after; refusals and failures go to
     * {@code fail} as gRPC statuses, a cancelled ask to {@code onCancel}.
     */
    private void run(String key, java.util.function.Consumer<Throwable> fail, SlotWork work, Runnable onCancel) {
        workers.execute(() -> {
            try {
                work.run();
            } catch (Rejected e) {
                fail.accept(e.toStatus());
            } catch (Asks.Cancelled e) {
                onCancel.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail.accept(Status.UNAVAILABLE.withDescription("the generator is shutting down").asRuntimeException());
            } catch (RuntimeException e) {
                LOG.error("generator call failed", e);
                fail.accept(Status.INTERNAL.withDescription("INTERNAL: " + e).withCause(e).asRuntimeException());
            } finally {
                asks.release(key);
            }
        });
    }

    /**
     * The document as the view knows it. One the view does not know yet is looked for again once
     * the view has read the manifests topic to its end (at most 10 s), as an ask does, so a
     * GetDocument right after Ingest returns never gets NOT_FOUND. Blocking, hence on a worker.
     */
    @Override
    @Blocking
    public Uni<DocumentManifest> getDocument(DocumentRef request) {
        String id = request.getDocumentId();
        MeshView.DocumentState d = view.document(id);
        try {
            if (d == null && view.awaitManifestsRead(System.nanoTime() + 10_000_000_000L)) d = view.document(id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Uni.createFrom().failure(Status.UNAVAILABLE.withDescription("the generator is shutting down").asRuntimeException());
        }
        if (d == null) {
            return Uni.createFrom().failure(new Rejected(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", "no document '" + id + "'").toStatus());
        }
        return Uni.createFrom().item(d.manifest());
    }

    @PreDestroy
    void close() {
        workers.shutdownNow();
    }
}
