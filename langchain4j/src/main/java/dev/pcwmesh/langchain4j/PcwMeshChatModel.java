package dev.pcwmesh.langchain4j;

import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.pcwmesh.langchain4j.spi.PcwMeshChatModelBuilderFactory;
import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import io.grpc.ManagedChannel;

import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

/**
 * A LangChain4j {@link ChatModel} answered by a PCW Mesh generator: the conversation about
 * documents longer than the model's trained window, which the mesh shows to the model as parallel
 * context windows (or another strategy). The documents come from {@link PcwMeshChatRequestParameters}
 * (the model's defaults or the request's); without documents it is a plain chat with the model.
 *
 * <pre>{@code
 * ChatModel model = PcwMeshChatModel.builder()
 *         .generatorAddress("localhost:9103")
 *         .documentIds(documentId)
 *         .maxOutputTokens(64)
 *         .build();
 * String answer = model.chat("Who is Nousloum Piaholm married to?");
 * }</pre>
 *
 * <p>The reply is the generator's answer without the whitespace around it (the space after the
 * prompt's {@code "Answer:"}, the final newline). Sampling is greedy unless a temperature is set.
 * Tools, JSON response formats and non-text content are refused with
 * {@code UnsupportedFeatureException}; the mesh's gRPC errors become LangChain4j's exception types
 * (the table is in the README's LangChain4j section). Close the model to release its channel.
 */
public class PcwMeshChatModel implements ChatModel, AutoCloseable {

    /**
     * Default deadline of one answer: the first question about a freshly ingested document may wait
     * for the encoders (the generator's {@code pcw.segments.encode-wait}, 60 s) and then encode.
     */
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private final ManagedChannel channel;
    private final Duration timeout;
    private final int maxRetries;
    private final PcwMeshChatRequestParameters defaultRequestParameters;
    private final List<ChatModelListener> listeners;

    public PcwMeshChatModel(PcwMeshChatModelBuilder builder) {
        this.channel = MeshChannels.open(builder.generatorAddress, "the generator's");
        this.timeout = builder.timeout == null ? DEFAULT_TIMEOUT : builder.timeout;
        this.maxRetries = builder.maxRetries == null ? 2 : builder.maxRetries;
        this.defaultRequestParameters = builder.defaultParameters();
        this.listeners = builder.listeners == null ? List.of() : List.copyOf(builder.listeners);
    }

    @Override
    public ChatResponse doChat(ChatRequest chatRequest) {
        String requestId = ChatRequests.newRequestId();
        AskRequest ask = ChatRequests.toAskRequest(chatRequest, requestId);
        return MeshErrors.withRetries(() -> {
            // A retried ask starts over: the text of a failed attempt is dropped with it.
            AnswerText text = new AnswerText();
            AnswerFigures figures = null;
            Iterator<AnswerEvent> events = GeneratorGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).ask(ask);
            while (events.hasNext()) {
                AnswerEvent e = events.next();
                if (e.hasDone()) figures = e.getDone();
                else text.add(e.getText());
            }
            if (figures == null) {
                throw new InternalServerException("the generator ended the answer without its figures");
            }
            return ChatRequests.toChatResponse(text.text(), figures, requestId);
        }, maxRetries);
    }

    @Override
    public PcwMeshChatRequestParameters defaultRequestParameters() {
        return defaultRequestParameters;
    }

    @Override
    public List<ChatModelListener> listeners() {
        return listeners;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    /** Releases the gRPC channel (answers still streaming are cancelled). */
    @Override
    public void close() {
        MeshChannels.close(channel);
    }

    /** A builder; one from a {@link PcwMeshChatModelBuilderFactory} service when one is installed, as LangChain4j's providers do. */
    public static PcwMeshChatModelBuilder builder() {
        for (PcwMeshChatModelBuilderFactory factory : ServiceLoader.load(PcwMeshChatModelBuilderFactory.class)) {
            return factory.get();
        }
        return new PcwMeshChatModelBuilder();
    }

    /**
     * Builds a {@link PcwMeshChatModel}. A value set by its own method takes precedence over the
     * same value in {@link #defaultRequestParameters(ChatRequestParameters)}.
     */
    public static class PcwMeshChatModelBuilder {
        private String generatorAddress;
        private Duration timeout;
        private Integer maxRetries;
        private ChatRequestParameters defaultRequestParameters;
        private List<String> documentIds;
        private PcwMeshStrategy strategy;
        private String questionFormat;
        private Double temperature;
        private Double topP;
        private Integer topK;
        private Integer maxOutputTokens;
        private List<String> stopSequences;
        private Long seed;
        private List<ChatModelListener> listeners;

        public PcwMeshChatModelBuilder() {
            // Public so that a builder factory can extend it.
        }

        /** The generator's gRPC address, {@code host:port} (port 9103 for {@code pcw mesh up}). Required. */
        public PcwMeshChatModelBuilder generatorAddress(String generatorAddress) {
            this.generatorAddress = generatorAddress;
            return this;
        }

        /** Deadline of one answer (default 5 minutes). */
        public PcwMeshChatModelBuilder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Retries of an ask refused as busy or unavailable (default 2). */
        public PcwMeshChatModelBuilder maxRetries(Integer maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        /** Default parameters of every request: LangChain4j's common ones or {@link PcwMeshChatRequestParameters}. */
        public PcwMeshChatModelBuilder defaultRequestParameters(ChatRequestParameters defaultRequestParameters) {
            this.defaultRequestParameters = defaultRequestParameters;
            return this;
        }

        /** The documents every request answers from (mesh document ids, as ingest returns them). */
        public PcwMeshChatModelBuilder documentIds(List<String> documentIds) {
            this.documentIds = documentIds;
            return this;
        }

        public PcwMeshChatModelBuilder documentIds(String... documentIds) {
            return documentIds(Arrays.asList(documentIds));
        }

        public PcwMeshChatModelBuilder strategy(PcwMeshStrategy strategy) {
            this.strategy = strategy;
            return this;
        }

        public PcwMeshChatModelBuilder questionFormat(String questionFormat) {
            this.questionFormat = questionFormat;
            return this;
        }

        public PcwMeshChatModelBuilder temperature(Double temperature) {
            this.temperature = temperature;
            return this;
        }

        public PcwMeshChatModelBuilder topP(Double topP) {
            this.topP = topP;
            return this;
        }

        public PcwMeshChatModelBuilder topK(Integer topK) {
            this.topK = topK;
            return this;
        }

        public PcwMeshChatModelBuilder maxOutputTokens(Integer maxOutputTokens) {
            this.maxOutputTokens = maxOutputTokens;
            return this;
        }

        public PcwMeshChatModelBuilder stopSequences(List<String> stopSequences) {
            this.stopSequences = stopSequences;
            return this;
        }

        public PcwMeshChatModelBuilder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public PcwMeshChatModelBuilder listeners(List<ChatModelListener> listeners) {
            this.listeners = listeners;
            return this;
        }

        public PcwMeshChatModelBuilder listeners(ChatModelListener... listeners) {
            return listeners(Arrays.asList(listeners));
        }

        PcwMeshChatRequestParameters defaultParameters() {
            return PcwMeshChatRequestParameters.builder()
                    .overrideWith(defaultRequestParameters == null ? PcwMeshChatRequestParameters.EMPTY : defaultRequestParameters)
                    .overrideWith(PcwMeshChatRequestParameters.builder()
                            .documentIds(documentIds).strategy(strategy).questionFormat(questionFormat)
                            .temperature(temperature).topP(topP).topK(topK).maxOutputTokens(maxOutputTokens)
                            .stopSequences(stopSequences).seed(seed).build())
                    .build();
        }

        public PcwMeshChatModel build() {
            return new PcwMeshChatModel(this);
        }
    }
}
