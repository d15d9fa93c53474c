package dev.pcwmesh.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import dev.pcwmesh.proto.v1.RankRequest;
import dev.pcwmesh.proto.v1.RankResponse;
import dev.pcwmesh.proto.v1.RankedWindow;
import io.grpc.ManagedChannel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A {@link ContentRetriever} over mesh documents: the windows most relevant to a query, best
 * first, scored by the generator's {@code Rank} — the attention the query gives each window when
 * it follows all of them in parallel, which is how the {@code select} strategy chooses windows.
 * No embedding model or vector store is involved: the model that answers is the one that ranks.
 *
 * <p>Each {@link Content} is one window's text as a {@link TextSegment} whose metadata holds
 * {@value #DOCUMENT_ID} (string), {@value #WINDOW_INDEX} (integer, from 0), {@value #SCORE} and
 * {@value #TOKEN_COUNT}; the content's own metadata has the score under {@link ContentMetadata#SCORE}.
 * A score is the window's share of the attention the query gave all windows (0..1, summing to 1
 * over the documents).
 *
 * <pre>{@code
 * ContentRetriever retriever = PcwMeshContentRetriever.builder()
 *         .generatorAddress("localhost:9103").documentIds(id).maxResults(3).build();
 * }</pre>
 */
public class PcwMeshContentRetriever implements ContentRetriever, AutoCloseable {

    /** Segment metadata key: the mesh document id. */
    public static final String DOCUMENT_ID = "document_id";
    /** Segment metadata key: the window's index in its document. */
    public static final String WINDOW_INDEX = "window_index";
    /** Segment metadata key: the window's score. */
    public static final String SCORE = "score";
    /** Segment metadata key: the window's token count. */
    public static final String TOKEN_COUNT = "token_count";

    /** Windows returned when not configured: as many as LangChain4j's EmbeddingStoreContentRetriever returns. */
    static final int DEFAULT_MAX_RESULTS = 3;

    private final ManagedChannel channel;
    private final Duration timeout;
    private final int maxRetries;
    private final Function<Query, List<String>> documentIds;
    private final Function<Query, Integer> maxResults;
    private final double minScore;
    private final String questionFormat;

    private PcwMeshContentRetriever(Builder builder) {
        if (builder.documentIds == null) throw new IllegalArgumentException("documentIds (fixed or per query) are required");
        this.channel = MeshChannels.open(builder.generatorAddress, "the generator's");
        this.timeout = builder.timeout == null ? PcwMeshChatModel.DEFAULT_TIMEOUT : builder.timeout;
        this.maxRetries = builder.maxRetries == null ? 2 : builder.maxRetries;
        this.documentIds = builder.documentIds;
        this.maxResults = builder.maxResults == null ? query -> DEFAULT_MAX_RESULTS : builder.maxResults;
        this.minScore = builder.minScore == null ? 0 : builder.minScore;
        this.questionFormat = builder.questionFormat == null ? "" : builder.questionFormat;
    }

    @Override
    public List<Content> retrieve(Query query) {
        RankRequest request = RankRequest.newBuilder()
                .addAllDocumentIds(documentIds.apply(query))
                .setQuery(query.text())
                .setMaxResults(maxResults.apply(query))
                .setQuestionFormat(questionFormat)
                .setRequestId(ChatRequests.newRequestId())
                .build();
        RankResponse ranked = MeshErrors.withRetries(() -> GeneratorGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).rank(request), maxRetries);
        List<Content> contents = new ArrayList<>();
        for (RankedWindow w : ranked.getWindowsList()) {
            // Best first from the generator, so the first window under the threshold ends the list.
            if (w.getScore() < minScore) break;
            Metadata metadata = new Metadata()
                    .put(DOCUMENT_ID, w.getDocumentId())
                    .put(WINDOW_INDEX, w.getWindowIndex())
                    .put(SCORE, w.getScore())
                    .put(TOKEN_COUNT, w.getTokenCount());
            contents.add(Content.from(TextSegment.from(w.getText(), metadata), Map.of(ContentMetadata.SCORE, w.getScore())));
        }
        return contents;
    }

    /** Releases the gRPC channel. */
    @Override
    public void close() {
        MeshChannels.close(channel);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link PcwMeshContentRetriever}. */
    public static class Builder {
        private String generatorAddress;
        private Duration timeout;
        private Integer maxRetries;
        private Function<Query, List<String>> documentIds;
        private Function<Query, Integer> maxResults;
        private Double minScore;
        private String questionFormat;

        /** The generator's gRPC address, {@code host:port} (port 9103 for {@code pcw mesh up}). Required. */
        public Builder generatorAddress(String generatorAddress) {
            this.generatorAddress = generatorAddress;
            return this;
        }

        /** Deadline of one ranking (default 5 minutes: the first one about a new document may wait for its encoding). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Retries of a ranking refused as busy or unavailable (default 2). */
        public Builder maxRetries(Integer maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        /** The documents whose windows are ranked. */
        public Builder documentIds(List<String> documentIds) {
            List<String> fixed = List.copyOf(documentIds);
            this.documentIds = query -> fixed;
            return this;
        }

        public Builder documentIds(String... documentIds) {
            return documentIds(Arrays.asList(documentIds));
        }

        /** The documents to rank chosen per query (by the user in its metadata, say). */
        public Builder dynamicDocumentIds(Function<Query, List<String>> documentIds) {
            this.documentIds = documentIds;
            return this;
        }

        /** Windows returned at most (default 3; 0 for all). */
        public Builder maxResults(Integer maxResults) {
            this.maxResults = maxResults == null ? null : query -> maxResults;
            return this;
        }

        public Builder dynamicMaxResults(Function<Query, Integer> maxResults) {
            this.maxResults = maxResults;
            return this;
        }

        /** Windows scoring below this are left out (default 0: none). */
        public Builder minScore(Double minScore) {
            this.minScore = minScore;
            return this;
        }

        /** How the query follows the documents while scoring, {@code %s} for it; the generator's default when unset. */
        public Builder questionFormat(String questionFormat) {
            this.questionFormat = questionFormat;
            return this;
        }

        public PcwMeshContentRetriever build() {
            return new PcwMeshContentRetriever(this);
        }
    }
}
