package dev.pcwmesh.generator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pcwmesh.generator.openai.ChatCompletion;
import dev.pcwmesh.generator.openai.ChatCompletionChunk;
import dev.pcwmesh.generator.openai.ChatCompletionRequest;
import dev.pcwmesh.generator.openai.ModelList;
import dev.pcwmesh.generator.openai.OpenAiException;
import dev.pcwmesh.generator.openai.PcwFigures;
import dev.pcwmesh.generator.openai.Usage;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.service.Rejected;
import dev.pcwmesh.service.security.ApiKeyAuthentication;
import dev.pcwmesh.service.security.ApiKeyGate;
import io.grpc.Status;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestMulti;
import org.jboss.resteasy.reactive.RestHeader;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The generator as an OpenAI-compatible chat model: {@code POST /v1/chat/completions} (whole, or
 * streamed as server-sent events) and {@code GET /v1/models}, on the HTTP port beside gRPC. A chat
 * request becomes an {@link AskRequest} with {@code messages}, and the documents the extension
 * field {@code pcw_documents} names (none: a plain chat with the model); it is answered by
 * {@link Asks} exactly as a gRPC Ask is, in a slot taken at once (429 when none is free) and on this
 * endpoint's own threads, never the event loop. A client that disconnects cancels its ask.
 *
 * <p>Both kinds of answer are a {@link RestMulti} of bytes written as they are: Quarkus REST sends
 * the status and headers with the first item, so a refusal that comes before any text (an unknown
 * document, a full generator) is still an HTTP error in OpenAI's shape, even for a streamed
 * request; and the stream's framing is exactly {@code data: <json>\n\n}, ending with
 * {@code data: [DONE]}, which OpenAI clients parse (Quarkus's own SSE writer omits the space).
 */
@Path("/v1")
@Singleton
public class OpenAiResource {
    private static final Logger LOG = Logger.getLogger(OpenAiResource.class);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

    private final Asks asks;
    private final KeyedAsks slots;
    private final ApiKeyAuthentication authentication;
    private final GeneratorConfig config;
    private final ObjectMapper json;
    private final String modelName;
    private final long modelCreated;
    private final String systemFingerprint;
    private final ExecutorService workers;

    public OpenAiResource(Asks asks, KeyedAsks slots, ApiKeyAuthentication authentication, LoadedModel loaded, GeneratorConfig config, ObjectMapper json) {
        this.slots = slots;
        this.authentication = authentication;
        this.asks = asks;
        this.config = config;
        this.json = json;
        String file = config.model().getFileName().toString();
        this.modelName = config.openai().modelName().orElse(file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file);
        this.modelCreated = modifiedSeconds(config);
        this.systemFingerprint = "fp_" + loaded.model().fingerprint().substring(0, 16);
        // One thread per slot: an ask holds a slot from before it is submitted until it ends.
        this.workers = Executors.newFixedThreadPool(config.limits().maxConcurrentAsks(), Thread.ofPlatform().name("pcw-openai-", 0).daemon().factory());
    }

    @GET
    @Path("/models")
    @Produces(MediaType.APPLICATION_JSON)
    public ModelList models() {
        return new ModelList("list", List.of(modelCard()));
    }

    @GET
    @Path("/models/{model}")
    @Produces(MediaType.APPLICATION_JSON)
    public ModelList.Model model(@RestPath String model) {
        if (!model.equals(modelName)) {
            throw new OpenAiException(404, "model", "model_not_found", "this generator serves one model, '" + modelName + "', not '" + model + "'");
        }
        return modelCard();
    }

    /**
     * Answers a chat. The body is read as bytes (its size checked, here and by
     * {@link OpenAiRequestLimit} before it is read) and parsed by {@link ChatCompletionRequest};
     * the ask starts when Quarkus REST subscribes to the answer.
     */
    @POST
    @Path("/chat/completions")
    public RestMulti<byte[]> chatCompletions(byte[] body, @RestHeader("authorization") String authorization,
                                             @RestHeader("x-api-key") String apiKey) {
        int max = config.limits().maxRequestBytes();
        if (body.length > max) throw tooLarge(body.length, max);
        ChatCompletionRequest request = ChatCompletionRequest.from(parse(body));
        String id = "chatcmpl-" + HexFormat.of().formatHex(randomBytes());
        long created = Instant.now().getEpochSecond();
        Reply reply = request.stream() ? new Streamed(id, created, request.includeUsage()) : new Whole(id, created);
        // The key's name, for its limit of concurrent asks (ApiKeyAuthentication has let the request in).
        String key = authentication.gate().check("/v1/chat/completions", authorization, apiKey) instanceof ApiKeyGate.Accepted a ? a.keyName() : null;
        return RestMulti.fromMultiData(answer(request.toAskRequest(id), reply, key))
                .status(200)
                .header(HttpHeaders.CONTENT_TYPE, request.stream() ? "text/event-stream" : MediaType.APPLICATION_JSON)
                .header(HttpHeaders.CACHE_CONTROL, "no-cache")
                .build();
    }

    /**
     * Runs the ask in a slot on this endpoint's threads, handing its text and figures to
     * {@code reply}. A refusal before the reply has sent anything fails the Multi, which the
     * exception mappers below turn into the HTTP error; a cancelled subscription (the client
     * went away) cancels the ask.
     */
    private Multi<byte[]> answer(AskRequest request, Reply reply, String key) {
        return Multi.createFrom().emitter(out -> {
            try {
                slots.acquire(key);
            } catch (Rejected e) {
                out.fail(e);
                return;
            }
            AtomicBoolean gone = new AtomicBoolean();
            out.onTermination(() -> gone.set(true));
            workers.execute(() -> {
                try {
                    AnswerFigures figures = asks.answer(request, text -> reply.text(text, out), gone::get, Long.MAX_VALUE);
                    reply.done(figures, out);
                    out.complete();
                } catch (Asks.Cancelled e) {
                    LOG.debugf("chat %s cancelled: the client went away", request.getRequestId());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    reply.failed(new Rejected(Status.Code.UNAVAILABLE, "SHUTTING_DOWN", "the generator is shutting down"), out);
                } catch (Rejected e) {
                    reply.failed(e, out);
                } catch (RuntimeException e) {
                    LOG.errorf(e, "chat %s failed", request.getRequestId());
                    reply.failed(error(e), out);
                } finally {
                    slots.release(key);
                }
            });
        });
    }

    // ------------------------------------------------------------------ replies

    /** What an ask's text and figures become on the wire. Called on one worker thread, in order. */
    private interface Reply {
        void text(String piece, MultiEmitter<? super byte[]> out);

        void done(AnswerFigures figures, MultiEmitter<? super byte[]> out);

        void failed(RuntimeException e, MultiEmitter<? super byte[]> out);
    }

    /** Without {@code stream}: one {@code chat.completion} object when the answer is complete. */
    private final class Whole implements Reply {
        private final String id;
        private final long created;
        private final StringBuilder text = new StringBuilder();

        Whole(String id, long created) {
            this.id = id;
            this.created = created;
        }

        @Override
        public void text(String piece, MultiEmitter<? super byte[]> out) {
            text.append(piece);
        }

        @Override
        public void done(AnswerFigures figures, MultiEmitter<? super byte[]> out) {
            ChatCompletion.Choice choice = new ChatCompletion.Choice(0, new ChatCompletion.Message("assistant", text.toString()), finishReason(figures));
            out.emit(bytes(new ChatCompletion(id, "chat.completion", created, modelName, systemFingerprint, List.of(choice),
                    Usage.of(figures), PcwFigures.of(figures))));
        }

        @Override
        public void failed(RuntimeException e, MultiEmitter<? super byte[]> out) {
            out.fail(e);
        }
    }

    /**
     * With {@code stream}: a role chunk before the first text, a chunk per piece of text, a last
     * chunk with the finish reason (and the figures), the usage chunk when asked for, then
     * {@code [DONE]}. Nothing is sent before the first text, so that a refusal is still an HTTP
     * status; a failure after that is an {@code error} event, as OpenAI sends one.
     */
    private final class Streamed implements Reply {
        private final String id;
        private final long created;
        private final boolean includeUsage;
        private boolean started;

        Streamed(String id, long created, boolean includeUsage) {
            this.id = id;
            this.created = created;
            this.includeUsage = includeUsage;
        }

        @Override
        public void text(String piece, MultiEmitter<? super byte[]> out) {
            start(out);
            out.emit(event(chunk(new ChatCompletionChunk.Delta(null, piece), null, null)));
        }

        @Override
        public void done(AnswerFigures figures, MultiEmitter<? super byte[]> out) {
            start(out);
            out.emit(event(chunk(new ChatCompletionChunk.Delta(null, null), finishReason(figures), PcwFigures.of(figures))));
            if (includeUsage) {
                out.emit(event(new ChatCompletionChunk(id, "chat.completion.chunk", created, modelName, systemFingerprint, List.of(),
                        Usage.of(figures), null)));
            }
            out.emit(DONE);
        }

        @Override
        public void failed(RuntimeException e, MultiEmitter<? super byte[]> out) {
            if (!started) {
                out.fail(e);
                return;
            }
            out.emit(event(error(e).body()));
            out.complete();
        }

        private void start(MultiEmitter<? super byte[]> out) {
            if (started) return;
            started = true;
            out.emit(event(chunk(new ChatCompletionChunk.Delta("assistant", ""), null, null)));
        }

        private ChatCompletionChunk chunk(ChatCompletionChunk.Delta delta, String finishReason, PcwFigures figures) {
            return new ChatCompletionChunk(id, "chat.completion.chunk", created, modelName, systemFingerprint,
                    List.of(new ChatCompletionChunk.Choice(0, delta, finishReason)), null, figures);
        }

        private byte[] event(Object data) {
            byte[] payload = bytes(data);
            byte[] event = new byte[6 + payload.length + 2];
            System.arraycopy("data: ".getBytes(StandardCharsets.US_ASCII), 0, event, 0, 6);
            System.arraycopy(payload, 0, event, 6, payload.length);
            event[event.length - 2] = '\n';
            event[event.length - 1] = '\n';
            return event;
        }
    }

    // ------------------------------------------------------------------ errors

    @ServerExceptionMapper
    public RestResponse<OpenAiException.ErrorResponse> openAiError(OpenAiException e) {
        return e.toResponse();
    }

    @ServerExceptionMapper
    public RestResponse<OpenAiException.ErrorResponse> rejected(Rejected e) {
        return OpenAiException.of(e).toResponse();
    }

    @ServerExceptionMapper
    public RestResponse<OpenAiException.ErrorResponse> failed(RuntimeException e) {
        OpenAiException error = error(e);
        if (error.status() == 500) LOG.error("chat request failed", e);
        return error.toResponse();
    }

    private static OpenAiException error(RuntimeException e) {
        return switch (e) {
            case OpenAiException o -> o;
            case Rejected r -> OpenAiException.of(r);
            case WebApplicationException w -> new OpenAiException(w.getResponse().getStatus(), null, null, w.getMessage());
            default -> new OpenAiException(500, null, "INTERNAL", "the generator failed: " + e);
        };
    }

    static OpenAiException tooLarge(long bytes, int max) {
        return new OpenAiException(413, null, "REQUEST_TOO_LARGE", "the request body has " + bytes
                + " bytes, more than pcw.limits.max-request-bytes " + max);
    }

    // ------------------------------------------------------------------ helpers

    private JsonNode parse(byte[] body) {
        try {
            return json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(body);
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw OpenAiException.invalid(null, "INVALID_JSON", "the request body is not valid JSON: " + why);
        }
    }

    private byte[] bytes(Object value) {
        try {
            return json.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ModelList.Model modelCard() {
        return new ModelList.Model(modelName, "model", modelCreated, "pcw-mesh");
    }

    /** OpenAI's finish reasons: {@code length} when the token limit cut the answer, else {@code stop}. */
    private static String finishReason(AnswerFigures figures) {
        return figures.getStopReason().equals("max_tokens") ? "length" : "stop";
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[12];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private static long modifiedSeconds(GeneratorConfig config) {
        try {
            return Files.getLastModifiedTime(config.model()).toInstant().getEpochSecond();
        } catch (IOException e) {
            return Instant.now().getEpochSecond();
        }
    }

    @PreDestroy
    void close() {
        workers.shutdownNow();
    }
}
