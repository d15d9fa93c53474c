package dev.pcwmesh.client;

import com.google.protobuf.ByteString;
import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChunkerGrpc;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.DocumentRef;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.proto.v1.RankRequest;
import dev.pcwmesh.proto.v1.RankResponse;
import dev.pcwmesh.proto.v1.SplitRequest;
import dev.pcwmesh.proto.v1.SplitResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;

import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A client of a running mesh: ingest documents through the chunker, ask the generator and read
 * its answer as it streams, rank documents' windows for a query, look a document up. Blocking
 * calls over plaintext gRPC; errors are the services' {@link StatusRuntimeException}s, whose
 * description starts with the short reason.
 */
public final class MeshClient implements AutoCloseable {
    /** Inbound messages up to this size (a manifest of a very long document is the largest). */
    private static final int MAX_INBOUND_BYTES = 16 << 20;

    private final ManagedChannel chunker;
    private final ManagedChannel generator;
    private final Duration timeout;

    private MeshClient(ManagedChannel chunker, ManagedChannel generator, Duration timeout) {
        this.chunker = chunker;
        this.generator = generator;
        this.timeout = timeout;
    }

    /**
     * A client of the chunker and generator at these {@code host:port} addresses; every call has
     * {@code timeout} as its deadline.
     */
    public static MeshClient connect(String chunkerAddress, String generatorAddress, Duration timeout) {
        return new MeshClient(channel(chunkerAddress), channel(generatorAddress), timeout);
    }

    private static ManagedChannel channel(String address) {
        return ManagedChannelBuilder.forTarget(address).usePlaintext().maxInboundMessageSize(MAX_INBOUND_BYTES).build();
    }

    /** Ingests a file's bytes of this media type (text/plain, text/markdown, text/html, application/pdf) and returns its manifest. */
    public DocumentManifest ingest(byte[] data, String mediaType, String documentId) {
        IngestRequest.Builder r = IngestRequest.newBuilder().setData(ByteString.copyFrom(data)).setMediaType(mediaType);
        if (documentId != null) r.setDocumentId(documentId);
        return ingest(r.build());
    }

    public DocumentManifest ingest(IngestRequest request) {
        return ChunkerGrpc.newBlockingStub(chunker).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).ingest(request);
    }

    /** Cuts text into windows as Ingest would, storing nothing ({@code maxWindowTokens} 0: the chunker's default). */
    public SplitResponse split(String text, int maxWindowTokens) {
        return ChunkerGrpc.newBlockingStub(chunker).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .split(SplitRequest.newBuilder().setText(text).setMaxWindowTokens(maxWindowTokens).build());
    }

    /** Asks; {@code text} receives the answer piece by piece as it completes; returns the figures of the final event. */
    public AnswerFigures ask(AskRequest request, Consumer<String> text) {
        Iterator<AnswerEvent> events = GeneratorGrpc.newBlockingStub(generator)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).ask(request);
        AnswerFigures figures = null;
        while (events.hasNext()) {
            AnswerEvent e = events.next();
            if (e.hasDone()) figures = e.getDone();
            else text.accept(e.getText());
        }
        if (figures == null) throw new IllegalStateException("the generator ended the answer without its figures");
        return figures;
    }

    /** The documents' windows by the attention the query gives them, best first (the select strategy's scoring). */
    public RankResponse rank(RankRequest request) {
        return GeneratorGrpc.newBlockingStub(generator).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).rank(request);
    }

    /** The document's manifest as the generator sees it (windows_encoded filled in). */
    public DocumentManifest document(String documentId) {
        return GeneratorGrpc.newBlockingStub(generator).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .getDocument(DocumentRef.newBuilder().setDocumentId(documentId).build());
    }

    @Override
    public void close() {
        chunker.shutdownNow();
        generator.shutdownNow();
    }
}
