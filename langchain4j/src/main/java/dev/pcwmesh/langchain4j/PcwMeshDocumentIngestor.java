package dev.pcwmesh.langchain4j;

import dev.langchain4j.data.document.Document;
import dev.pcwmesh.proto.v1.ChunkerGrpc;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.IngestRequest;
import io.grpc.ManagedChannel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Puts LangChain4j {@link Document}s into the mesh: each document's text goes to the chunker's
 * {@code Ingest} as UTF-8 {@code text/plain}, which cuts it into windows of the model's tokens and
 * publishes them for the encoders; the returned ids are what {@link PcwMeshChatRequestParameters}
 * and {@link PcwMeshContentRetriever} take. Any LangChain4j {@code DocumentParser} (PDF, Word,
 * HTML ...) can feed it, since a {@code Document} is already text.
 *
 * <pre>{@code
 * try (PcwMeshDocumentIngestor ingestor = PcwMeshDocumentIngestor.builder().chunkerAddress("localhost:9101").build()) {
 *     String id = ingestor.ingest(FileSystemDocumentLoader.loadDocument(path, new TextDocumentParser()));
 * }
 * }</pre>
 *
 * <p>A document's id is the value of its metadata key {@code document_id} (see
 * {@link Builder#documentIdMetadataKey}) when present; otherwise the chunker derives one from the
 * content, so the same text ingested twice is the same document and is encoded once. Errors are
 * LangChain4j's exception types, as for the chat models.
 */
public class PcwMeshDocumentIngestor implements AutoCloseable {

    /** The metadata key whose value, when a document has it, becomes its mesh document id. */
    public static final String DEFAULT_DOCUMENT_ID_KEY = "document_id";

    private final ManagedChannel channel;
    private final Duration timeout;
    private final String documentIdMetadataKey;
    private final String instruction;
    private final int maxWindowTokens;
    private final boolean waitUntilEncoded;

    private PcwMeshDocumentIngestor(Builder builder) {
        this.channel = MeshChannels.open(builder.chunkerAddress, "the chunker's");
        this.timeout = builder.timeout == null ? PcwMeshChatModel.DEFAULT_TIMEOUT : builder.timeout;
        this.documentIdMetadataKey = builder.documentIdMetadataKey == null ? DEFAULT_DOCUMENT_ID_KEY : builder.documentIdMetadataKey;
        this.instruction = builder.instruction == null ? "" : builder.instruction;
        this.maxWindowTokens = builder.maxWindowTokens == null ? 0 : builder.maxWindowTokens;
        this.waitUntilEncoded = builder.waitUntilEncoded != null && builder.waitUntilEncoded;
    }

    /** Ingests one document and returns its mesh document id. */
    public String ingest(Document document) {
        return ingestForManifest(document).getDocumentId();
    }

    /** Ingests documents one after another and returns their ids in the same order. */
    public List<String> ingest(List<Document> documents) {
        List<String> ids = new ArrayList<>(documents.size());
        for (Document d : documents) ids.add(ingest(d));
        return ids;
    }

    public List<String> ingest(Document... documents) {
        return ingest(Arrays.asList(documents));
    }

    /** Ingests one document and returns the chunker's manifest of it: id, windows and their token counts, prefix. */
    public DocumentManifest ingestForManifest(Document document) {
        IngestRequest.Builder request = IngestRequest.newBuilder()
                .setText(document.text())
                .setMediaType("text/plain")   // a string field: protobuf sends it as UTF-8
                .setInstruction(instruction)
                .setMaxWindowTokens(maxWindowTokens)
                .setWaitUntilEncoded(waitUntilEncoded);
        String id = document.metadata().getString(documentIdMetadataKey);
        if (id != null) request.setDocumentId(id);
        try {
            return ChunkerGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .ingest(request.build());
        } catch (RuntimeException e) {
            throw MeshErrors.map(e);
        }
    }

    /** Releases the gRPC channel. */
    @Override
    public void close() {
        MeshChannels.close(channel);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link PcwMeshDocumentIngestor}. */
    public static class Builder {
        private String chunkerAddress;
        private Duration timeout;
        private String documentIdMetadataKey;
        private String instruction;
        private Integer maxWindowTokens;
        private Boolean waitUntilEncoded;

        /** The chunker's gRPC address, {@code host:port} (port 9101 for {@code pcw mesh up}). Required. */
        public Builder chunkerAddress(String chunkerAddress) {
            this.chunkerAddress = chunkerAddress;
            return this;
        }

        /** Deadline of one ingest (default 5 minutes; it bounds the wait when {@link #waitUntilEncoded} is set). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** The metadata key whose value is used as the document id (default {@code document_id}). */
        public Builder documentIdMetadataKey(String documentIdMetadataKey) {
            this.documentIdMetadataKey = documentIdMetadataKey;
            return this;
        }

        /** Text after BOS that every window attends to (an instruction); none by default. */
        public Builder instruction(String instruction) {
            this.instruction = instruction;
            return this;
        }

        /** Most tokens per window; the chunker's default when unset. */
        public Builder maxWindowTokens(Integer maxWindowTokens) {
            this.maxWindowTokens = maxWindowTokens;
            return this;
        }

        /**
         * Return only once the encoders have encoded every window, so the first question finds them
         * ready (off by default: the generator waits for them anyway).
         */
        public Builder waitUntilEncoded(Boolean waitUntilEncoded) {
            this.waitUntilEncoded = waitUntilEncoded;
            return this;
        }

        public PcwMeshDocumentIngestor build() {
            return new PcwMeshDocumentIngestor(this);
        }
    }
}
