package dev.pcwmesh.langchain4j;

import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.pcwmesh.langchain4j.spi.PcwMeshStreamingChatModelBuilderFactory;
import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The streaming twin of {@link PcwMeshChatModel}: the same asks, with the answer handed to
 * {@link StreamingChatResponseHandler#onPartialResponse} piece by piece as the generator releases
 * it (whole characters; whitespace at the edges of the answer left out, so the pieces add up to
 * the blocking model's text), then {@code onCompleteResponse} with the whole text, token usage, finish
 * reason and the mesh's figures — or {@code onError} with the LangChain4j exception for the
 * mesh's error. The handler is called on a gRPC thread; {@code doChat} returns at once.
 *
 * <p>Each partial response carries a {@link StreamingHandle} whose {@code cancel()} cancels the
 * ask, which frees the generator's slot at once; after it the handler hears nothing more. A
 * request the mesh cannot serve (tools, JSON, images) is refused by throwing
 * {@code UnsupportedFeatureException} from {@code chat}, before anything is sent, as LangChain4j's
 * own streaming providers do.
 */
public class PcwMeshStreamingChatModel implements StreamingChatModel, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PcwMeshStreamingChatModel.class.getName());

    private final ManagedChannel channel;
    private final Duration timeout;
    private final PcwMeshChatRequestParameters defaultRequestParameters;
    private final List<ChatModelListener> listeners;

    public PcwMeshStreamingChatModel(PcwMeshStreamingChatModelBuilder builder) {
        this.channel = MeshChannels.open(builder.generatorAddress, "the generator's");
        this.timeout = builder.timeout == null ? PcwMeshChatModel.DEFAULT_TIMEOUT : builder.timeout;
        this.defaultRequestParameters = builder.defaultParameters();
        this.listeners = builder.listeners == null ? List.of() : List.copyOf(builder.listeners);
    }

    @Override
    public void doChat(ChatRequest chatRequest, StreamingChatResponseHandler handler) {
        String requestId = ChatRequests.newRequestId();
        AskRequest ask = ChatRequests.toAskRequest(chatRequest, requestId);
        GeneratorGrpc.newStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .ask(ask, new AnswerObserver(handler, requestId));
    }

    /**
     * Relays one answer's events to the handler. gRPC calls it from one thread at a time, in order.
     * An exception thrown by the handler cancels the ask and goes to the handler's {@code onError}.
     */
    private static final class AnswerObserver implements ClientResponseObserver<AskRequest, AnswerEvent>, StreamingHandle {
        private final StreamingChatResponseHandler handler;
        private final String requestId;
        private final AnswerText text = new AnswerText();
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean finished = new AtomicBoolean();
        private AnswerFigures figures;
        private ClientCallStreamObserver<AskRequest> call;

        AnswerObserver(StreamingChatResponseHandler handler, String requestId) {
            this.handler = handler;
            this.requestId = requestId;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<AskRequest> call) {
            this.call = call;
        }

        @Override
        public void onNext(AnswerEvent event) {
            if (cancelled.get() || finished.get()) return;
            if (event.hasDone()) {
                figures = event.getDone();
                return;
            }
            String piece = text.add(event.getText());
            if (piece.isEmpty()) return;
            try {
                handler.onPartialResponse(new PartialResponse(piece), new PartialResponseContext(this));
            } catch (RuntimeException e) {
                call.cancel("the response handler failed", e);
                fail(e);
            }
        }

        @Override
        public void onError(Throwable t) {
            // After cancel() the call ends with CANCELLED, which the caller asked for: not an error to report.
            if (cancelled.get()) return;
            fail(MeshErrors.map(t));
        }

        @Override
        public void onCompleted() {
            if (cancelled.get() || !finished.compareAndSet(false, true)) return;
            if (figures == null) {
                reportError(new InternalServerException("the generator ended the answer without its figures"));
                return;
            }
            try {
                handler.onCompleteResponse(ChatRequests.toChatResponse(text.text(), figures, requestId));
            } catch (RuntimeException e) {
                reportError(e);
            }
        }

        private void fail(Throwable error) {
            if (finished.compareAndSet(false, true)) reportError(error);
        }

        /** The handler's onError; what it throws in turn has nowhere to go but the log (as in LangChain4j's providers). */
        private void reportError(Throwable error) {
            try {
                handler.onError(error);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "StreamingChatResponseHandler.onError threw; ignored", e);
            }
        }

        @Override
        public void cancel() {
            if (cancelled.compareAndSet(false, true)) call.cancel("cancelled through the StreamingHandle", null);
        }

        @Override
        public boolean isCancelled() {
            return cancelled.get();
        }
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

    /** A builder; one from a {@link PcwMeshStreamingChatModelBuilderFactory} service when one is installed. */
    public static PcwMeshStreamingChatModelBuilder builder() {
        for (PcwMeshStreamingChatModelBuilderFactory factory : ServiceLoader.load(PcwMeshStreamingChatModelBuilderFactory.class)) {
            return factory.get();
        }
        return new PcwMeshStreamingChatModelBuilder();
    }

    /**
     * Builds a {@link PcwMeshStreamingChatModel}; the same settings as {@link PcwMeshChatModel.PcwMeshChatModelBuilder}
     * except retries (a streamed answer is not retried: part of it may have been handed over).
     */
    public static class PcwMeshStreamingChatModelBuilder {
        private String generatorAddress;
        private Duration timeout;
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

        public PcwMeshStreamingChatModelBuilder() {
            // Public so that a builder factory can extend it.
        }

        /** The generator's gRPC address, {@code host:port} (port 9103 for {@code pcw mesh up}). Required. */
        public PcwMeshStreamingChatModelBuilder generatorAddress(String generatorAddress) {
            this.generatorAddress = generatorAddress;
            return this;
        }

        /** Deadline of one answer, all of its stream (default 5 minutes). */
        public PcwMeshStreamingChatModelBuilder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder defaultRequestParameters(ChatRequestParameters defaultRequestParameters) {
            this.defaultRequestParameters = defaultRequestParameters;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder documentIds(List<String> documentIds) {
            this.documentIds = documentIds;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder documentIds(String... documentIds) {
            return documentIds(Arrays.asList(documentIds));
        }

        public PcwMeshStreamingChatModelBuilder strategy(PcwMeshStrategy strategy) {
            this.strategy = strategy;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder questionFormat(String questionFormat) {
            this.questionFormat = questionFormat;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder temperature(Double temperature) {
            this.temperature = temperature;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder topP(Double topP) {
            this.topP = topP;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder topK(Integer topK) {
            this.topK = topK;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder maxOutputTokens(Integer maxOutputTokens) {
            this.maxOutputTokens = maxOutputTokens;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder stopSequences(List<String> stopSequences) {
            this.stopSequences = stopSequences;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder listeners(List<ChatModelListener> listeners) {
            this.listeners = listeners;
            return this;
        }

        public PcwMeshStreamingChatModelBuilder listeners(ChatModelListener... listeners) {
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

        public PcwMeshStreamingChatModel build() {
            return new PcwMeshStreamingChatModel(this);
        }
    }
}
