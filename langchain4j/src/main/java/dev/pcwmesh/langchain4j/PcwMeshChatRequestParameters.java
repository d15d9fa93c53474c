package dev.pcwmesh.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The parameters of a chat with the mesh: LangChain4j's common ones (temperature, top-p, top-k,
 * max output tokens, stop sequences) and what the mesh adds — the documents to answer from, the
 * context strategy that shows them to the model, the question format, and sampling's seed, min-p
 * and repetition penalty.
 *
 * <p>Set them as a model's {@code defaultRequestParameters} (the documents a whole assistant
 * answers from) or per request ({@code ChatRequest.parameters}, or an AiServices method argument
 * of this type). A request's values override the defaults one by one, as everywhere in
 * LangChain4j ({@link #overrideWith}); an empty list of document ids does not override, so a
 * request cannot take away the defaults' documents. No documents at all is a plain chat with the
 * model.
 */
public class PcwMeshChatRequestParameters extends DefaultChatRequestParameters {

    /** No parameters: every value is the model's default or the generator's. */
    public static final PcwMeshChatRequestParameters EMPTY = builder().build();

    private final List<String> documentIds;
    private final PcwMeshStrategy strategy;
    private final String questionFormat;
    private final Long seed;
    private final Double minP;
    private final Double repetitionPenalty;

    protected PcwMeshChatRequestParameters(Builder builder) {
        super(builder);
        this.documentIds = builder.documentIds == null ? List.of() : List.copyOf(builder.documentIds);
        this.strategy = builder.strategy;
        this.questionFormat = builder.questionFormat;
        this.seed = builder.seed;
        this.minP = builder.minP;
        this.repetitionPenalty = builder.repetitionPenalty;
    }

    /** The mesh documents to answer from, in the order their windows are placed; empty for a plain chat. */
    public List<String> documentIds() { return documentIds; }

    /** The context strategy; null for the generator's default (parallel). */
    public PcwMeshStrategy strategy() { return strategy; }

    /**
     * How a user turn follows the documents, {@code %s} for its text; null for the generator's
     * default {@code "\n\nQuestion: %s\nAnswer:"}. Used for models without a chat template.
     */
    public String questionFormat() { return questionFormat; }

    /** Seed for reproducible sampling; null lets the generator pick one. */
    public Long seed() { return seed; }

    public Double minP() { return minP; }

    public Double repetitionPenalty() { return repetitionPenalty; }

    /** These parameters with {@code that}'s non-null (and non-empty) values taking precedence. */
    @Override
    public PcwMeshChatRequestParameters overrideWith(ChatRequestParameters that) {
        return builder().overrideWith(this).overrideWith(that).build();
    }

    /** {@code that}'s parameters with these taking precedence. */
    @Override
    public PcwMeshChatRequestParameters defaultedBy(ChatRequestParameters that) {
        return builder().overrideWith(that).overrideWith(this).build();
    }

    /** Any parameters as mesh parameters (LangChain4j's plain ones get no documents). */
    static PcwMeshChatRequestParameters from(ChatRequestParameters parameters) {
        if (parameters instanceof PcwMeshChatRequestParameters p) return p;
        return builder().overrideWith(parameters == null ? EMPTY : parameters).build();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (o == null || getClass() != o.getClass() || !super.equals(o)) return false;
        PcwMeshChatRequestParameters that = (PcwMeshChatRequestParameters) o;
        return documentIds.equals(that.documentIds) && Objects.equals(strategy, that.strategy)
                && Objects.equals(questionFormat, that.questionFormat) && Objects.equals(seed, that.seed)
                && Objects.equals(minP, that.minP) && Objects.equals(repetitionPenalty, that.repetitionPenalty);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), documentIds, strategy, questionFormat, seed, minP, repetitionPenalty);
    }

    @Override
    public String toString() {
        return "PcwMeshChatRequestParameters{documentIds=" + documentIds + ", strategy=" + strategy
                + ", questionFormat=" + (questionFormat == null ? null : "'" + questionFormat.replace("\n", "\\n") + "'")
                + ", temperature=" + temperature() + ", topP=" + topP() + ", topK=" + topK()
                + ", maxOutputTokens=" + maxOutputTokens() + ", stopSequences=" + stopSequences()
                + ", seed=" + seed + ", minP=" + minP + ", repetitionPenalty=" + repetitionPenalty
                + ", modelName=" + modelName() + ", frequencyPenalty=" + frequencyPenalty()
                + ", presencePenalty=" + presencePenalty() + ", toolSpecifications=" + toolSpecifications()
                + ", toolChoice=" + toolChoice() + ", responseFormat=" + responseFormat() + "}";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link PcwMeshChatRequestParameters}; LangChain4j's common parameters come from the parent builder. */
    public static class Builder extends DefaultChatRequestParameters.Builder<Builder> {
        private List<String> documentIds;
        private PcwMeshStrategy strategy;
        private String questionFormat;
        private Long seed;
        private Double minP;
        private Double repetitionPenalty;

        /** Takes every value {@code parameters} has set (non-null, lists non-empty), keeping the others. */
        @Override
        public Builder overrideWith(ChatRequestParameters parameters) {
            super.overrideWith(parameters);
            if (parameters instanceof PcwMeshChatRequestParameters p) {
                if (!p.documentIds().isEmpty()) documentIds(p.documentIds());
                if (p.strategy() != null) strategy(p.strategy());
                if (p.questionFormat() != null) questionFormat(p.questionFormat());
                if (p.seed() != null) seed(p.seed());
                if (p.minP() != null) minP(p.minP());
                if (p.repetitionPenalty() != null) repetitionPenalty(p.repetitionPenalty());
            }
            return this;
        }

        public Builder documentIds(List<String> documentIds) {
            this.documentIds = documentIds;
            return this;
        }

        public Builder documentIds(String... documentIds) {
            return documentIds(Arrays.asList(documentIds));
        }

        public Builder strategy(PcwMeshStrategy strategy) {
            this.strategy = strategy;
            return this;
        }

        public Builder questionFormat(String questionFormat) {
            this.questionFormat = questionFormat;
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder minP(Double minP) {
            this.minP = minP;
            return this;
        }

        public Builder repetitionPenalty(Double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        @Override
        public PcwMeshChatRequestParameters build() {
            return new PcwMeshChatRequestParameters(this);
        }
    }
}
