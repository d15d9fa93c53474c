package dev.pcwmesh.langchain4j;

import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import dev.pcwmesh.cli.Mesh;
import dev.pcwmesh.client.MeshClient;
import dev.pcwmesh.langchain4j.examples.LongDocumentAssistant;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.RankRequest;
import dev.pcwmesh.proto.v1.RankResponse;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import dev.pcwmesh.runtime.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LangChain4j integration against the whole mesh as users run it: {@link Mesh} starts a KRaft
 * broker and the three services' built applications (free ports, state under target/, the shipped
 * demo model), once for the class, exactly as the cli's MeshEndToEndTest does. Nothing is mocked:
 * every answer comes from the generator, and is checked against the generator's own Ask and
 * the sample document's known facts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PcwMeshLangChain4jTest {
    private static final Path HOME = TestModels.inRepository("pom.xml").getParent();
    private static final Path MODEL = HOME.resolve("models/pcw-demo.gguf");
    private static final Path SAMPLE = HOME.resolve("models/demo/sample-document.txt");
    /** The chunker's window, as MeshEndToEndTest and {@code pcw mesh up} use for the demo model (70 % of 256). */
    private static final int WINDOW = 179;
    private static final int MAX_TOKENS = 24;
    /**
     * A question about the sample document's middle (paragraph 6 of 12), from sample-questions.tsv. The
     * demo model answers about 57 % of such questions right; this one it answers right under parallel
     * and select alike (the coach question of paragraph 11, for one, it gets wrong), and greedy
     * decoding makes that the same every run.
     */
    private static final String QUESTION = "Who is Nousloum Piaholm married to?";
    private static final String EXPECTED = "Nousloum Piaholm is married to Chydu Zailano.";

    private Mesh mesh;
    private MeshClient client;
    private PcwMeshDocumentIngestor ingestor;
    private DocumentManifest sample;
    private String sampleId;

    interface Assistant {
        String answer(String question);
    }

    interface StreamingAssistant {
        TokenStream answer(String question);
    }

    /** A tool an assistant could call, if the mesh had tools. */
    public static final class Weather {
        @Tool("today's weather")
        public String weather() { return "sunny"; }
    }

    @BeforeAll
    void up() throws Exception {
        Path state = HOME.resolve("langchain4j/target/mesh-" + UUID.randomUUID().toString().substring(0, 8));
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String name : List.of("kafka", "controller", "chunker", "encoder", "generator")) ports.put(name, freePort());
        mesh = new Mesh(new Mesh.Layout(HOME, state, MODEL, System.getProperty("java.class.path"), ports, WINDOW,
                Path.of(System.getProperty("java.home"))), new PrintWriter(System.out, true));
        mesh.up(Duration.ofMinutes(5));
        client = MeshClient.connect(address("chunker"), address("generator"), Duration.ofMinutes(5));
        ingestor = PcwMeshDocumentIngestor.builder().chunkerAddress(address("chunker")).build();
        sample = ingestor.ingestForManifest(Document.from(Files.readString(SAMPLE)));
        sampleId = sample.getDocumentId();
    }

    @AfterAll
    void down() throws Exception {
        if (ingestor != null) ingestor.close();
        if (client != null) client.close();
        if (mesh != null) mesh.down();
    }

    /** Check 1: an AiServices assistant on PcwMeshChatModel answers about an ingested document of many windows. */
    @Test
    void anAssistantAnswersAboutALongDocument() throws Exception {
        assertEquals(EXPECTED, expectedAnswer(QUESTION), "the test's fact is the one sample-questions.tsv lists");
        assertTrue(sample.getWindowCount() >= 8, "a document of many windows: " + sample.getWindowCount());

        try (PcwMeshChatModel model = PcwMeshChatModel.builder().generatorAddress(address("generator"))
                .documentIds(sampleId).maxOutputTokens(MAX_TOKENS).build()) {
            Assistant assistant = AiServices.create(Assistant.class, model);
            String answer = assistant.answer(QUESTION);
            assertEquals(EXPECTED, answer);
            assertEquals(askDirectly(sampleId, QUESTION).strip(), answer, "the generator's own answer to the same question, stripped");

            ChatResponse response = model.chat(ChatRequest.builder().messages(UserMessage.from(QUESTION)).build());
            assertEquals(answer, response.aiMessage().text());
            AnswerFigures f = assertInstanceOf(PcwMeshChatResponseMetadata.class, response.metadata()).figures();
            assertEquals(sample.getWindowCount(), f.getWindowsUsed(), "parallel: every window");
            assertEquals(f.getContextTokens() + f.getTokensIn(), response.tokenUsage().inputTokenCount());
            assertTrue(f.getContextTokens() > 1000, "the prompt holds the whole document: " + f);
            assertEquals(f.getTokensOut(), response.tokenUsage().outputTokenCount());
            assertEquals(FinishReason.STOP, response.finishReason(), "the model ended its answer itself: " + f.getStopReason());
            assertTrue(response.id().startsWith("lc4j-"), response.id());
        }
    }

    /**
     * A conversation: an assistant with chat memory sends the earlier turns with the new question,
     * and its answer is the generator's to the same turns as ChatTurns (with the first reply as the
     * assistant's turn, stripped as the model returned it).
     */
    @Test
    void anAssistantWithMemorySendsTheConversation() {
        String second = "When was Yastyx Gamez born?";
        try (PcwMeshChatModel model = PcwMeshChatModel.builder().generatorAddress(address("generator"))
                .documentIds(sampleId).maxOutputTokens(MAX_TOKENS).build()) {
            Assistant assistant = AiServices.builder(Assistant.class).chatModel(model)
                    .chatMemory(MessageWindowChatMemory.withMaxMessages(10)).build();
            assertEquals(EXPECTED, assistant.answer(QUESTION));
            String answer = assistant.answer(second);

            StringBuilder direct = new StringBuilder();
            client.ask(AskRequest.newBuilder().addDocumentIds(sampleId)
                    .addMessages(ChatTurn.newBuilder().setRole("user").setContent(QUESTION))
                    .addMessages(ChatTurn.newBuilder().setRole("assistant").setContent(EXPECTED))
                    .addMessages(ChatTurn.newBuilder().setRole("user").setContent(second))
                    .setSampling(Sampling.newBuilder().setMaxTokens(MAX_TOKENS)).build(), direct::append);
            assertEquals(direct.toString().strip(), answer);
            assertTrue(answer.startsWith("Yastyx Gamez was born on"), "an answer to the second question: " + answer);
        }
    }

    /** Check 2: the streaming model hands over the same text in pieces, then the whole response with usage and finish reason. */
    @Test
    void theStreamingModelDeliversTheSameTextInPieces() throws Exception {
        try (PcwMeshStreamingChatModel model = PcwMeshStreamingChatModel.builder().generatorAddress(address("generator"))
                .documentIds(sampleId).maxOutputTokens(MAX_TOKENS).build()) {
            List<String> pieces = new CopyOnWriteArrayList<>();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            model.chat(QUESTION, new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String partialResponse) {
                    assertFalse(done.isDone(), "no piece after the complete response");
                    pieces.add(partialResponse);
                }

                @Override
                public void onCompleteResponse(ChatResponse completeResponse) {
                    done.complete(completeResponse);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            });
            ChatResponse response = done.get(5, TimeUnit.MINUTES);
            assertTrue(pieces.size() > 1, "more than one piece: " + pieces);
            assertEquals(EXPECTED, String.join("", pieces));
            assertEquals(EXPECTED, response.aiMessage().text());
            AnswerFigures f = ((PcwMeshChatResponseMetadata) response.metadata()).figures();
            assertEquals(f.getContextTokens() + f.getTokensIn(), response.tokenUsage().inputTokenCount());
            assertEquals(f.getTokensOut(), response.tokenUsage().outputTokenCount());
            assertTrue(response.tokenUsage().outputTokenCount() > 1);
            assertEquals(FinishReason.STOP, response.finishReason());

            // The same through an AiServices assistant's TokenStream.
            StreamingAssistant assistant = AiServices.create(StreamingAssistant.class, model);
            List<String> streamed = new CopyOnWriteArrayList<>();
            CompletableFuture<ChatResponse> streamedDone = new CompletableFuture<>();
            assistant.answer(QUESTION).onPartialResponse(streamed::add).onCompleteResponse(streamedDone::complete)
                    .onError(streamedDone::completeExceptionally).start();
            assertEquals(EXPECTED, streamedDone.get(5, TimeUnit.MINUTES).aiMessage().text());
            assertEquals(pieces, streamed, "the same pieces");
        }
    }

    /** The handle each partial response carries cancels the ask: nothing more reaches the handler. */
    @Test
    void aStreamCancelledThroughItsHandleEndsQuietly() throws Exception {
        try (PcwMeshStreamingChatModel model = PcwMeshStreamingChatModel.builder().generatorAddress(address("generator"))
                .documentIds(sampleId).maxOutputTokens(MAX_TOKENS).build()) {
            List<String> pieces = new CopyOnWriteArrayList<>();
            List<Object> after = new CopyOnWriteArrayList<>();
            CompletableFuture<StreamingHandle> cancelled = new CompletableFuture<>();
            model.chat(QUESTION, new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                    pieces.add(partial.text());
                    context.streamingHandle().cancel();
                    cancelled.complete(context.streamingHandle());
                }

                @Override
                public void onCompleteResponse(ChatResponse completeResponse) { after.add(completeResponse); }

                @Override
                public void onError(Throwable error) { after.add(error); }
            });
            assertTrue(cancelled.get(5, TimeUnit.MINUTES).isCancelled());
            // The whole answer takes well under a second once its segments are cached; give it several.
            Thread.sleep(3000);
            assertEquals(1, pieces.size(), "no piece after the cancel: " + pieces);
            assertEquals(List.of(), after, "neither a complete response nor an error after the cancel");
        }
    }

    /** Check 3: the retriever ranks the window that holds a needle fact first, among windows of filler. */
    @Test
    void theRetrieverRanksTheNeedlesWindowFirst() {
        String needle = "Zansaim Tezyrk keeps 329 barrels.";
        String query = "How many barrels does Zansaim Tezyrk keep?";
        String id = ingestor.ingest(Document.from(needleDocument(needle), Metadata.from("document_id", "lc4j-needle")));
        assertEquals("lc4j-needle", id, "the id from the document's metadata");

        try (PcwMeshContentRetriever retriever = PcwMeshContentRetriever.builder().generatorAddress(address("generator"))
                .documentIds(id).maxResults(3).build()) {
            List<Content> contents = retriever.retrieve(Query.from(query));
            // What the retriever returns is the generator's Rank, in order.
            RankResponse ranked = client.rank(RankRequest.newBuilder().addDocumentIds(id).setQuery(query).setMaxResults(3).build());
            int windows = ranked.getWindowsTotal();
            assertTrue(windows >= 5, "a needle among several windows: " + windows);

            assertEquals(3, contents.size());
            Content best = contents.getFirst();
            assertTrue(best.textSegment().text().contains(needle), "the needle's window first: " + best.textSegment().text());
            int needleWindow = best.textSegment().metadata().getInteger(PcwMeshContentRetriever.WINDOW_INDEX);
            assertTrue(needleWindow > 0 && needleWindow < windows - 1, "the needle is in a middle window: " + needleWindow);
            double previous = Double.MAX_VALUE;
            for (Content c : contents) {
                Metadata m = c.textSegment().metadata();
                assertEquals(id, m.getString(PcwMeshContentRetriever.DOCUMENT_ID));
                double score = m.getDouble(PcwMeshContentRetriever.SCORE);
                assertEquals(score, (Double) c.metadata().get(ContentMetadata.SCORE));
                assertTrue(score <= previous, "best first");
                previous = score;
            }
            for (Content c : contents.subList(1, contents.size())) assertFalse(c.textSegment().text().contains(needle));
            for (int i = 0; i < 3; i++) {
                assertEquals(ranked.getWindows(i).getWindowIndex(),
                        contents.get(i).textSegment().metadata().getInteger(PcwMeshContentRetriever.WINDOW_INDEX));
            }
        }
    }

    /** Check 4: an unknown document is the caller's mistake, InvalidRequestException, from every entry point. */
    @Test
    void anUnknownDocumentIsAnInvalidRequest() throws Exception {
        try (PcwMeshChatModel model = PcwMeshChatModel.builder().generatorAddress(address("generator")).documentIds("no-such-document").build();
             PcwMeshStreamingChatModel streaming = PcwMeshStreamingChatModel.builder().generatorAddress(address("generator"))
                     .documentIds("no-such-document").build();
             PcwMeshContentRetriever retriever = PcwMeshContentRetriever.builder().generatorAddress(address("generator"))
                     .documentIds("no-such-document").build()) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> model.chat("Who?"));
            assertTrue(e.getMessage().startsWith("NOT_FOUND: "), e.getMessage());

            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            streaming.chat("Who?", handler(done));
            Throwable streamed = assertThrows(java.util.concurrent.ExecutionException.class, () -> done.get(1, TimeUnit.MINUTES)).getCause();
            assertInstanceOf(InvalidRequestException.class, streamed);
            assertTrue(streamed.getMessage().startsWith("NOT_FOUND: "), streamed.getMessage());

            assertThrows(InvalidRequestException.class, () -> retriever.retrieve(Query.from("Who?")));
        }
    }

    /** Check 5: tools, JSON and images are refused with UnsupportedFeatureException, by both models and through AiServices. */
    @Test
    void unsupportedFeaturesAreRefused() {
        try (PcwMeshChatModel model = PcwMeshChatModel.builder().generatorAddress(address("generator")).documentIds(sampleId).build();
             PcwMeshStreamingChatModel streaming = PcwMeshStreamingChatModel.builder().generatorAddress(address("generator"))
                     .documentIds(sampleId).build()) {
            Assistant withTools = AiServices.builder(Assistant.class).chatModel(model).tools(new Weather()).build();
            assertThrows(UnsupportedFeatureException.class, () -> withTools.answer("What is the weather?"));
            ChatRequest json = ChatRequest.builder().messages(UserMessage.from(QUESTION)).responseFormat(ResponseFormat.JSON).build();
            assertThrows(UnsupportedFeatureException.class, () -> model.chat(json));
            ChatRequest image = ChatRequest.builder().messages(UserMessage.from(TextContent.from("What is this?"),
                    ImageContent.from("https://example.invalid/a.png"))).build();
            assertThrows(UnsupportedFeatureException.class, () -> model.chat(image));
            assertThrows(UnsupportedFeatureException.class, () -> streaming.chat(image, handler(new CompletableFuture<>())));
        }
    }

    /** The README's example runs against this mesh and prints the streamed answer. */
    @Test
    void theExampleAnswersStreaming() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        LongDocumentAssistant.run(address("chunker"), address("generator"), SAMPLE, List.of(QUESTION), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("A: " + EXPECTED), out);
        assertTrue(out.contains("windows"), out);
    }

    // ------------------------------------------------------------------ helpers

    private String address(String service) {
        return mesh.layout().address(service);
    }

    /** The generator's answer to a plain question (AskRequest.question), greedy, as {@code pcw ask} sends it. */
    private String askDirectly(String documentId, String question) {
        StringBuilder text = new StringBuilder();
        client.ask(AskRequest.newBuilder().addDocumentIds(documentId).setQuestion(question)
                .setStrategy(StrategySpec.newBuilder().setName("parallel"))
                .setSampling(Sampling.newBuilder().setMaxTokens(MAX_TOKENS)).build(), text::append);
        return text.toString();
    }

    /** The expected answer sample-questions.tsv gives for a question. */
    private static String expectedAnswer(String question) throws IOException {
        for (String line : Files.readAllLines(HOME.resolve("models/demo/sample-questions.tsv"))) {
            String[] f = line.split("\t");
            if (!line.startsWith("#") && f.length == 3 && f[1].equals(question)) return f[2];
        }
        throw new AssertionError("no such question in sample-questions.tsv: " + question);
    }

    /**
     * A fixed document of filler paragraphs (the demo corpus's filler sentences, no facts) with one
     * fact, the needle, in the middle paragraph: the same text every run, so the ranking is too.
     */
    private static String needleDocument(String needle) {
        List<String> filler = List.of(
                "Few people walked by the pond after dark.", "The council met in the bridge to discuss the harvest.",
                "A blue flag flew above the inn on feast days.", "Rain fell for seven days without stopping.",
                "Nobody remembered when the old chapel had been built.", "Merchants carried salt, cloth and iron along the south road.",
                "In the summer, the lake froze and the children skated on it.", "The market opened early and closed late on most days.",
                "The granary was painted red after the great storm.", "A strange wind came down from the valley every evening.",
                "The summer was long that year, and the roads were good.", "The bells rang at noon, as they had for a hundred years.");
        List<String> paragraphs = new ArrayList<>();
        int count = 11;
        for (int p = 0; p < count; p++) {
            List<String> sentences = new ArrayList<>();
            for (int s = 0; s < 7; s++) sentences.add(filler.get((p * 5 + s * 7) % filler.size()));
            if (p == count / 2) sentences.add(3, needle);
            paragraphs.add(String.join(" ", sentences));
        }
        return String.join("\n\n", paragraphs);
    }

    private static StreamingChatResponseHandler handler(CompletableFuture<ChatResponse> done) {
        return new StreamingChatResponseHandler() {
            @Override
            public void onCompleteResponse(ChatResponse completeResponse) { done.complete(completeResponse); }

            @Override
            public void onError(Throwable error) { done.completeExceptionally(error); }
        };
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
