package dev.pcwmesh.generator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAI-compatible endpoint against the same generator {@link GeneratorServiceTest} runs (a
 * real broker in this JVM, the demo model, windows and manifests published as the chunker
 * publishes them), through a real OpenAI client library (LangChain4j's {@code langchain4j-open-ai})
 * and through raw HTTP where the wire format itself is the point. Every answer is compared with the
 * gRPC Ask of the same question, greedy.
 */
@QuarkusTest
@QuarkusTestResource(KafkaAndModelResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiEndpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @GrpcClient("generator")
    GeneratorGrpc.GeneratorBlockingStub generator;

    @Inject
    LoadedModel loaded;

    @Inject
    Asks asks;

    @Inject
    GeneratorConfig config;

    @TestHTTPResource("/v1")
    URL v1;

    private final HttpClient http = HttpClient.newHttpClient();
    private ChunkerRecords chunker;
    private String document;
    private String modelName;

    @BeforeAll
    void publishDocument() {
        chunker = new ChunkerRecords(loaded.model());
        List<int[]> windows = chunker.split(ChunkerRecords.factsText(new Random(5), 50));
        assertTrue(windows.size() >= 6, "the document should be several windows, got " + windows.size());
        document = "doc-" + UUID.randomUUID();
        chunker.publish(document, windows, windows.size());
        String file = KafkaAndModelResource.model().getFileName().toString();
        modelName = file.substring(0, file.lastIndexOf('.'));
    }

    @AfterAll
    void close() {
        chunker.close();
    }

    /** Check (1): both LangChain4j OpenAI models, pointed at /v1, answer what gRPC answers. */
    @Test
    void openAiClientsGetTheGrpcAnswer() throws Exception {
        String question = "What is the code of Brimstad?";
        Answer grpc = grpcAsk(AskRequest.newBuilder().addDocumentIds(document).setQuestion(question)
                .setStrategy(StrategySpec.newBuilder().setName("parallel")).setSampling(Sampling.newBuilder().setMaxTokens(16)).build());
        assertFalse(grpc.text.isEmpty(), "the model answers something");
        Map<String, Object> overDocument = Map.of("pcw_documents", List.of(document), "pcw_strategy", "parallel");

        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName(modelName)
                .temperature(0.0).maxTokens(16).customParameters(overDocument).build();
        ChatResponse whole = chat.chat(UserMessage.from(question));
        assertEquals(grpc.text, whole.aiMessage().text());
        assertUsageAndFinish(grpc.figures, whole);
        assertTrue(whole.id().startsWith("chatcmpl-"), whole.id());
        assertEquals(modelName, whole.modelName());

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName(modelName)
                .temperature(0.0).maxTokens(16).customParameters(overDocument).build();
        List<String> pieces = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(List.of(UserMessage.from(question)), new StreamingChatResponseHandler() {
            @Override public void onPartialResponse(String piece) { pieces.add(piece); }
            @Override public void onCompleteResponse(ChatResponse response) { done.complete(response); }
            @Override public void onError(Throwable error) { done.completeExceptionally(error); }
        });
        ChatResponse streamed = done.get(120, TimeUnit.SECONDS);
        assertTrue(pieces.size() >= 2, "the answer arrives in pieces: " + pieces);
        assertEquals(grpc.text, String.join("", pieces));
        assertEquals(grpc.text, streamed.aiMessage().text());
        assertUsageAndFinish(grpc.figures, streamed);
    }

    /** Check (2): the stream's exact framing, the role chunk, the finish chunk, the usage chunk and [DONE]. */
    @Test
    void streamIsServerSentEventsEndingWithUsageAndDone() throws Exception {
        String question = "Where does Hana Brolo live?";
        Answer grpc = grpcAsk(AskRequest.newBuilder().addDocumentIds(document).setQuestion(question)
                .setSampling(Sampling.newBuilder().setMaxTokens(12)).build());
        String body = """
                {"model": "anything", "messages": [{"role": "user", "content": [{"type": "text", "text": "Where does Hana "}, {"type": "text", "text": "Brolo live?"}]}],
                 "max_tokens": 12, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}, "pcw_documents": ["%s"]}
                """.formatted(document);
        HttpResponse<String> r = post(body, "text/event-stream");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/event-stream", r.headers().firstValue("content-type").orElse(""));

        List<JsonNode> chunks = events(r.body());
        JsonNode first = chunks.getFirst();
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals("assistant", first.at("/choices/0/delta/role").asText());
        assertTrue(first.get("id").asText().startsWith("chatcmpl-"));
        assertEquals(modelName, first.get("model").asText(), "the served model, whatever the request named");
        for (JsonNode c : chunks) {
            assertEquals(first.get("id"), c.get("id"), "one id for the whole stream");
            assertEquals(first.get("created"), c.get("created"));
        }

        StringBuilder text = new StringBuilder();
        int pieces = 0;
        for (JsonNode c : chunks.subList(1, chunks.size() - 2)) {
            assertTrue(c.at("/choices/0/finish_reason").isNull(), c.toString());
            text.append(c.at("/choices/0/delta/content").asText());
            pieces++;
        }
        assertEquals(grpc.text, text.toString());
        assertTrue(pieces >= 2, "content in several chunks");

        JsonNode finish = chunks.get(chunks.size() - 2);
        assertEquals(finishReason(grpc.figures), finish.at("/choices/0/finish_reason").asText());
        assertTrue(finish.at("/choices/0/delta").isEmpty(), finish.toString());
        assertEquals(grpc.figures.getWindowsTotal(), finish.at("/pcw_figures/windows_total").asInt());
        assertFalse(finish.has("usage"), "usage only in its own chunk");

        JsonNode usage = chunks.getLast();
        assertTrue(usage.get("choices").isArray() && usage.get("choices").isEmpty(), usage.toString());
        assertEquals(grpc.figures.getContextTokens() + grpc.figures.getTokensIn(), usage.at("/usage/prompt_tokens").asInt());
        assertEquals(grpc.figures.getTokensOut(), usage.at("/usage/completion_tokens").asInt());
        assertEquals(usage.at("/usage/prompt_tokens").asInt() + grpc.figures.getTokensOut(), usage.at("/usage/total_tokens").asInt());
        assertTrue(grpc.figures.getContextTokens() > 0, "the document counts in the prompt");

        // Without include_usage the finish chunk is the last before [DONE].
        List<JsonNode> plain = events(post(body.replace("\"include_usage\": true", "\"include_usage\": false"), null).body());
        assertTrue(Set.of("stop", "length").contains(plain.getLast().at("/choices/0/finish_reason").asText()), plain.getLast().toString());
        assertFalse(plain.stream().anyMatch(c -> c.has("usage")));
    }

    /**
     * A whole answer over raw HTTP: a {@code developer} turn is a system turn, and
     * {@code pcw_strategy} may be an object mirroring StrategySpec.
     */
    @Test
    void wholeAnswerWithADeveloperTurnAndAStrategyObject() throws Exception {
        String instruction = "Answer from the document.";
        String question = "When does the ferry to Kelmouth depart?";
        Answer grpc = grpcAsk(AskRequest.newBuilder().addDocumentIds(document)
                .addMessages(ChatTurn.newBuilder().setRole("system").setContent(instruction))
                .addMessages(ChatTurn.newBuilder().setRole("user").setContent(question))
                .setStrategy(StrategySpec.newBuilder().setName("select").setTopK(2)).setSampling(Sampling.newBuilder().setMaxTokens(12)).build());
        HttpResponse<String> r = post("""
                {"model": "%s", "messages": [{"role": "developer", "content": "%s"}, {"role": "user", "content": "%s"}],
                 "max_completion_tokens": 12, "pcw_documents": ["%s"], "pcw_strategy": {"name": "select", "top_k": 2}}
                """.formatted(modelName, instruction, question, document), null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        JsonNode c = JSON.readTree(r.body());
        assertEquals("chat.completion", c.get("object").asText());
        assertEquals("assistant", c.at("/choices/0/message/role").asText());
        assertEquals(grpc.text, c.at("/choices/0/message/content").asText());
        assertEquals(finishReason(grpc.figures), c.at("/choices/0/finish_reason").asText());
        assertEquals(2, c.at("/pcw_figures/windows_used").asInt(), "select kept top_k windows");
        assertEquals(grpc.figures.getContextTokens() + grpc.figures.getTokensIn(), c.at("/usage/prompt_tokens").asInt());
        assertTrue(c.get("created").asLong() > 1_700_000_000L);
    }

    /** Check (3): malformed or unsupported requests get 400 / 413 in OpenAI's error shape; an unknown document 404. */
    @Test
    void badRequestsGetOpenAiErrors() throws Exception {
        String user = "[{\"role\": \"user\", \"content\": \"Who?\"}]";
        assertError(post("{\"messages\": [", null), 400, null, "INVALID_JSON");
        assertError(post("{\"messages\": []} {}", null), 400, null, "INVALID_JSON");
        assertError(post("[1, 2]", null), 400, null, "INVALID_JSON");
        assertError(post("{\"model\": \"m\"}", null), 400, "messages", "MISSING_FIELD");
        assertError(post("{\"messages\": []}", null), 400, "messages", "BAD_FIELD");
        assertError(post("{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", null), 400, "messages[0].role", "BAD_FIELD");
        assertError(post("{\"messages\": [{\"role\": \"tool\", \"content\": \"{}\", \"tool_call_id\": \"t\"}]}", null), 400, "messages[0].role", "UNSUPPORTED");
        assertError(post("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"http://x/y.png\"}}]}]}", null),
                400, "messages[0].content[0].type", "UNSUPPORTED");
        assertError(post("{\"messages\": " + user + ", \"n\": 2}", null), 400, "n", "UNSUPPORTED");
        assertError(post("{\"messages\": " + user + ", \"temperature\": \"hot\"}", null), 400, "temperature", "BAD_FIELD");
        assertError(post("{\"messages\": " + user + ", \"max_tokens\": 0}", null), 400, "max_tokens", "BAD_FIELD");
        assertError(post("{\"messages\": " + user + ", \"stop\": [\"\"]}", null), 400, "stop[0]", "BAD_FIELD");
        assertError(post("{\"messages\": " + user + ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]}", null),
                400, "tools", "UNSUPPORTED");
        assertError(post("{\"messages\": " + user + ", \"pcw_documents\": \"" + document + "\"}", null), 400, "pcw_documents", "BAD_FIELD");
        assertError(post("{\"messages\": " + user + ", \"pcw_documents\": [\"" + document + "\"], \"pcw_strategy\": {\"name\": \"select\", \"topk\": 2}}", null),
                400, "pcw_strategy.topk", "BAD_FIELD");
        // Refusals of the mesh itself, by their gRPC code and reason.
        assertError(post("{\"messages\": [{\"role\": \"user\", \"content\": \"Who?\"}, {\"role\": \"assistant\", \"content\": \"Me.\"}]}", null),
                400, "messages", "BAD_MESSAGES");
        assertError(post("{\"messages\": " + user + ", \"pcw_documents\": [\"" + document + "\"], \"pcw_strategy\": \"telepathy\"}", null),
                400, "pcw_strategy", "BAD_STRATEGY");
        assertError(post("{\"messages\": " + user + ", \"pcw_documents\": [\"no-such-document\"]}", null), 404, "pcw_documents", "UNKNOWN_DOCUMENT");
        // A streamed request refused before its first text is still an HTTP error, not an event stream.
        assertError(post("{\"messages\": " + user + ", \"stream\": true, \"pcw_documents\": [\"no-such-document\"]}", "text/event-stream"),
                404, "pcw_documents", "UNKNOWN_DOCUMENT");

        // The real client surfaces the error's message.
        OpenAiChatModel unknown = OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName(modelName).maxRetries(0)
                .customParameters(Map.of("pcw_documents", List.of("no-such-document"))).build();
        RuntimeException e = assertThrows(RuntimeException.class, () -> unknown.chat("Who?"));
        assertTrue(String.valueOf(e.getMessage()).contains("no document 'no-such-document'"), String.valueOf(e));
    }

    /** Check (3), sizes: a body over pcw.limits.max-request-bytes is 413, whether its length is declared or not. */
    @Test
    void oversizeBodiesGet413() throws Exception {
        int max = config.limits().maxRequestBytes();
        String padded = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "x".repeat(max) + "\"}]}";
        assertError(post(padded, null), 413, null, "REQUEST_TOO_LARGE");

        // Without a Content-Length (chunked), the bytes are counted before they are parsed.
        InputStream chunked = new ByteArrayInputStream(padded.getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(completions()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> chunked)).build(), HttpResponse.BodyHandlers.ofString());
        assertError(r, 413, null, "REQUEST_TOO_LARGE");

        // A declared length over the limit is refused from the header, before any of the body is sent.
        try (Socket s = new Socket(v1.getHost(), v1.getPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + (max + 1) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String head = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 413", head);
        }
    }

    /** Check (4). */
    @Test
    void modelsListsTheServedModel() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(v1 + "/models")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode list = JSON.readTree(r.body());
        assertEquals("list", list.get("object").asText());
        assertEquals(1, list.get("data").size());
        JsonNode model = list.get("data").get(0);
        assertEquals(modelName, model.get("id").asText());
        assertEquals("model", model.get("object").asText());
        assertEquals("pcw-mesh", model.get("owned_by").asText());
        assertTrue(model.get("created").asLong() > 0);

        HttpResponse<String> one = http.send(HttpRequest.newBuilder(URI.create(v1 + "/models/" + modelName)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(model, JSON.readTree(one.body()));
        assertError(http.send(HttpRequest.newBuilder(URI.create(v1 + "/models/gpt-4o")).GET().build(), HttpResponse.BodyHandlers.ofString()),
                404, "model", "model_not_found");
    }

    /** Check (5): no documents is a plain chat with the model, the conversation being the whole prompt. */
    @Test
    void withoutDocumentsItIsAPlainChat() {
        ChatTurn system = ChatTurn.newBuilder().setRole("system").setContent("The code of Brimstad is KT-4411.").build();
        ChatTurn user = ChatTurn.newBuilder().setRole("user").setContent("What is the code of Brimstad?").build();
        Answer grpc = grpcAsk(AskRequest.newBuilder().addMessages(system).addMessages(user).setSampling(Sampling.newBuilder().setMaxTokens(12)).build());

        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(v1.toString()).apiKey("unused").modelName(modelName)
                .temperature(0.0).maxTokens(12).build();
        ChatResponse r = chat.chat(SystemMessage.from(system.getContent()), UserMessage.from(user.getContent()));
        assertFalse(r.aiMessage().text().isBlank(), "the model answers");
        assertEquals(grpc.text, r.aiMessage().text());
        assertEquals(0, grpc.figures.getContextTokens());
        assertEquals(grpc.figures.getTokensIn(), r.tokenUsage().inputTokenCount(), "the conversation is the whole prompt");
    }

    /**
     * Asks hold slots while a document's last window never arrives: beyond the limit a request is
     * 429 BUSY; a client that disconnects frees its slot at once; one that waits gets 504 when the
     * windows do not arrive within pcw.limits.document-wait.
     */
    @Test
    void disconnectingCancelsAndSlotsAreLimited() throws Exception {
        String incomplete = "doc-" + UUID.randomUUID();
        List<int[]> windows = chunker.split(ChunkerRecords.factsText(new Random(9), 20));
        chunker.publish(incomplete, windows.subList(0, 1), 2);
        String waits = "{\"messages\": [{\"role\": \"user\", \"content\": \"Who?\"}], \"pcw_documents\": [\"" + incomplete + "\"]}";
        long start = System.nanoTime();
        try (Socket leaves = rawPost(waits); Socket stays = rawPost(waits)) {
            awaitFreeSlots(0);
            assertError(post("{\"messages\": [{\"role\": \"user\", \"content\": \"Who?\"}]}", null), 429, null, "BUSY");
            leaves.close();
            awaitFreeSlots(1);
            // Both asks started waiting after `start`, so neither could give up before start + document-wait.
            long freedAfter = System.nanoTime() - start;
            assertTrue(freedAfter < config.limits().documentWait().toNanos(),
                    "the slot was freed by the disconnect (" + freedAfter / 1_000_000 + " ms), not by the document wait");
            String response = new String(stays.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(response.startsWith("HTTP/1.1 504"), response);
            JsonNode error = JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4)).get("error");
            assertEquals("WINDOWS_MISSING", error.get("code").asText(), response);
            assertEquals("server_error", error.get("type").asText(), response);
        }
        awaitFreeSlots(config.limits().maxConcurrentAsks());
    }

    // ------------------------------------------------------------------ helpers

    private record Answer(String text, AnswerFigures figures) {}

    private Answer grpcAsk(AskRequest request) {
        StringBuilder text = new StringBuilder();
        AnswerFigures figures = null;
        Iterator<AnswerEvent> events = generator.withDeadlineAfter(120, TimeUnit.SECONDS).ask(request);
        while (events.hasNext()) {
            AnswerEvent e = events.next();
            if (e.hasDone()) figures = e.getDone();
            else text.append(e.getText());
        }
        assertNotNull(figures);
        return new Answer(text.toString(), figures);
    }

    private static String finishReason(AnswerFigures figures) {
        return figures.getStopReason().equals("max_tokens") ? "length" : "stop";
    }

    private static void assertUsageAndFinish(AnswerFigures expected, ChatResponse response) {
        assertEquals(expected.getContextTokens() + expected.getTokensIn(), response.tokenUsage().inputTokenCount(), "prompt tokens");
        assertEquals(expected.getTokensOut(), response.tokenUsage().outputTokenCount(), "completion tokens");
        assertEquals(finishReason(expected).equals("length") ? FinishReason.LENGTH : FinishReason.STOP, response.finishReason());
    }

    private URI completions() {
        return URI.create(v1 + "/chat/completions");
    }

    private HttpResponse<String> post(String body, String accept) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(completions()).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (accept != null) b.header("Accept", accept);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A chat request on a socket of its own, over HTTP/1.1, so that closing the socket is the client going away. */
    private Socket rawPost(String body) throws IOException {
        Socket s = new Socket(v1.getHost(), v1.getPort());
        s.setSoTimeout(60_000);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        return s;
    }

    /** The JSON of each event of a stream whose every event is exactly {@code data: <json>\n\n}, the last {@code data: [DONE]\n\n}. */
    private static List<JsonNode> events(String stream) throws IOException {
        assertTrue(stream.endsWith("data: [DONE]\n\n"), stream);
        String[] events = stream.substring(0, stream.length() - "data: [DONE]\n\n".length()).split("\n\n", -1);
        assertEquals("", events[events.length - 1], "every event ends with a blank line");
        List<JsonNode> out = new ArrayList<>();
        for (String e : Arrays.asList(events).subList(0, events.length - 1)) {
            assertTrue(e.startsWith("data: ") && e.indexOf('\n') < 0, "one data line per event: " + e);
            out.add(JSON.readTree(e.substring("data: ".length())));
        }
        return out;
    }

    private static void assertError(HttpResponse<String> r, int status, String param, String code) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertNotNull(error, r.body());
        assertEquals(status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error", error.get("type").asText(), r.body());
        assertFalse(error.get("message").asText().isBlank(), r.body());
        if (param == null) assertTrue(error.get("param").isNull(), r.body());
        else assertEquals(param, error.get("param").asText(), r.body());
        assertEquals(code, error.get("code").asText(), r.body());
    }

    private void awaitFreeSlots(int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (asks.freeSlots() != n && System.nanoTime() < end) Thread.sleep(20);
        assertEquals(n, asks.freeSlots(), "free slots");
    }
}
