package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AnswerRecord;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.DocumentRef;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import dev.pcwmesh.proto.v1.QuestionRecord;
import dev.pcwmesh.proto.v1.RankRequest;
import dev.pcwmesh.proto.v1.RankResponse;
import dev.pcwmesh.proto.v1.RankedWindow;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import dev.pcwmesh.runtime.context.Document;
import dev.pcwmesh.runtime.context.LocalSegments;
import dev.pcwmesh.runtime.context.PlanRequest;
import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.generate.TokenListener;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.service.testing.TestTopics;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.pcwmesh.service.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generator against a real broker in this JVM and real gRPC on loopback, with the shipped
 * demo model. The test plays the chunker's part by publishing windows and manifests in the
 * chunker's record format; no encoder runs, so every segment is encoded here (the fetch path is
 * exercised by the mesh's end-to-end test, with real encoders).
 */
@QuarkusTest
@QuarkusTestResource(KafkaAndModelResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GeneratorServiceTest {
    @GrpcClient("generator")
    GeneratorGrpc.GeneratorBlockingStub generator;

    @GrpcClient("generator")
    Channel channel;

    @Inject
    LoadedModel loaded;

    @Inject
    Asks asks;

    private ChunkerRecords chunker;
    private String document;
    private List<int[]> windows;

    @BeforeAll
    void publishDocument() {
        chunker = new ChunkerRecords(loaded.model());
        windows = chunker.split(ChunkerRecords.factsText(new Random(7), 60));
        assertTrue(windows.size() >= 8, "the document should be at least 8 windows, got " + windows.size());
        document = "doc-" + UUID.randomUUID();
        chunker.publish(document, windows, windows.size());
    }

    @AfterAll
    void close() {
        chunker.close();
    }

    @Test
    void answersLikeTheRuntimeInProcessForEachStrategy() {
        for (String strategy : List.of("parallel", "select", "sequential")) {
            Answer a = ask(request(document, "What is the code of Brimstad?", strategy));
            String expected = inProcess(strategy, "What is the code of Brimstad?");
            assertEquals(expected, a.text, strategy);
            assertEquals(windows.size(), a.figures.getWindowsTotal(), strategy);
            assertEquals(strategy.equals("select") ? 4 : strategy.equals("sequential") ? 1 : windows.size(), a.figures.getWindowsUsed(), strategy);
            assertTrue(a.figures.getTokensOut() > 0, strategy);
        }
    }

    @Test
    void rankPutsTheWindowThatHoldsTheFactFirst() {
        int holder = -1;
        for (int i = 0; i < windows.size(); i++) {
            if (loaded.model().tokenizer().decode(windows.get(i)).contains("Brimstad is KT-4411")) holder = i;
        }
        assertTrue(holder >= 0, "one window holds the fact whole");
        RankResponse all = generator.rank(RankRequest.newBuilder().addDocumentIds(document).setQuery("What is the code of Brimstad?").build());
        assertEquals(windows.size(), all.getWindowsTotal());
        assertEquals(windows.size(), all.getWindowsCount());
        RankedWindow best = all.getWindows(0);
        assertEquals(holder, best.getWindowIndex(), "ranking " + all.getWindowsList().stream().map(RankedWindow::getWindowIndex).toList());
        assertEquals(document, best.getDocumentId());
        assertEquals(windows.get(holder).length, best.getTokenCount());
        assertTrue(best.getText().contains("Brimstad is KT-4411"), best.getText());
        assertEquals(1.0, all.getWindowsList().stream().mapToDouble(RankedWindow::getScore).sum(), 1e-6, "shares of the attention");
        for (int i = 1; i < all.getWindowsCount(); i++) assertTrue(all.getWindows(i - 1).getScore() >= all.getWindows(i).getScore(), "best first");

        RankResponse two = generator.rank(RankRequest.newBuilder().addDocumentIds(document).setQuery("What is the code of Brimstad?").setMaxResults(2).build());
        // The same two windows; their scores agree to rounding (the attention mass is summed across threads in any order).
        assertEquals(all.getWindowsList().subList(0, 2).stream().map(RankedWindow::getWindowIndex).toList(),
                two.getWindowsList().stream().map(RankedWindow::getWindowIndex).toList());
        for (int i = 0; i < 2; i++) assertEquals(all.getWindows(i).getScore(), two.getWindows(i).getScore(), 1e-9);
        assertRefused(Status.Code.INVALID_ARGUMENT, "EMPTY_QUERY", () -> generator.rank(RankRequest.newBuilder().addDocumentIds(document).build()));
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", () -> generator.rank(RankRequest.newBuilder().addDocumentIds("nope").setQuery("Who?").build()));
    }

    @Test
    void aConversationIsAskedTurnByTurnInTheQuestionFormat() {
        String q = "What is the code of Brimstad?";
        Answer asQuestion = ask(request(document, q, "parallel"));
        Answer asMessage = ask(request(document, "", "parallel").toBuilder().addMessages(turn("user", q)).build());
        assertEquals(asQuestion.text, asMessage.text);
        assertEquals(1 + windows.stream().mapToInt(w -> w.length).sum(), asMessage.figures.getContextTokens(), "prefix and windows");

        // Earlier turns go before the question, each through the question format; system text first.
        String earlier = "Where does Hana Brolo live?";
        AskRequest conversation = request(document, "", "parallel").toBuilder()
                .addMessages(turn("system", "Answer from the document.")).addMessages(turn("user", earlier))
                .addMessages(turn("assistant", "Hana Brolo lives in Quenmouth.")).addMessages(turn("user", q)).build();
        String rendered = "Answer from the document.\n" + Asks.QUESTION_FORMAT.formatted(earlier) + " Hana Brolo lives in Quenmouth."
                + Asks.QUESTION_FORMAT.formatted(q);
        assertEquals(inProcessText("parallel", rendered), ask(conversation).text);
    }

    @Test
    void messagesWithoutDocumentsAreAPlainChat() {
        Model model = loaded.model();
        String prompt = "The code of Brimstad is KT-4411.\n" + Asks.QUESTION_FORMAT.formatted("What is the code of Brimstad?");
        Answer a = ask(AskRequest.newBuilder().addMessages(turn("system", "The code of Brimstad is KT-4411."))
                .addMessages(turn("user", "What is the code of Brimstad?")).setSampling(Sampling.newBuilder().setMaxTokens(16)).build());
        String expected = new Generator(model, model.tokenizer()).generate(model.tokenizer().encode(prompt, true, false),
                SamplingParams.greedy(16), TokenListener.NONE).text();
        assertEquals(expected, a.text);
        assertEquals(0, a.figures.getWindowsTotal());
        assertEquals(0, a.figures.getContextTokens());
    }

    @Test
    void badConversationsGetTheirStatus() {
        assertRefused(Status.Code.INVALID_ARGUMENT, "QUESTION_AND_MESSAGES", () -> ask(request(document, "Who?", "parallel").toBuilder()
                .addMessages(turn("user", "Who?")).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_MESSAGES", () -> ask(AskRequest.newBuilder()
                .addMessages(turn("user", "Who?")).addMessages(turn("assistant", "Me.")).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_MESSAGES", () -> ask(AskRequest.newBuilder().addMessages(turn("tool", "{}")).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "STRATEGY_WITHOUT_DOCUMENTS", () -> ask(AskRequest.newBuilder()
                .addMessages(turn("user", "Who?")).setStrategy(StrategySpec.newBuilder().setName("select")).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "QUESTION_TOO_LONG", () -> ask(AskRequest.newBuilder()
                .addMessages(turn("user", "Who? ".repeat(100))).build()));
    }

    @Test
    void aSecondQuestionEncodesNothing() {
        String doc = "doc-" + UUID.randomUUID();
        List<int[]> w = chunker.split(ChunkerRecords.factsText(new Random(11), 40));
        chunker.publish(doc, w, w.size());
        Answer first = ask(request(doc, "Where does Hana Brolo live?", "parallel"));
        // The prefix (BOS) is the same segment as every other document's, so an earlier test may have cached it.
        assertEquals(w.size() + 1, first.figures.getSegmentsEncodedHere() + first.figures.getSegmentCacheHits());
        assertTrue(first.figures.getSegmentsEncodedHere() >= w.size(), "every window encoded once");
        Answer second = ask(request(doc, "What is the code of Brimstad?", "parallel"));
        assertEquals(0, second.figures.getSegmentsEncodedHere());
        assertEquals(w.size() + 1, second.figures.getSegmentCacheHits());
    }

    @Test
    void kafkaQuestionsGetTheSameAnswerAsGrpc() throws Exception {
        AskRequest req = request(document, "When does the ferry to Kelmouth depart?", "parallel");
        Answer grpc = ask(req);
        String id = "req-" + UUID.randomUUID();
        chunker.producer().send(new ProducerRecord<>("pcw.questions", id, QuestionRecord.newBuilder().setRequest(req).build().toByteArray())).get();
        chunker.producer().send(new ProducerRecord<>("pcw.questions", "poison", "not a question".getBytes(StandardCharsets.UTF_8))).get();
        chunker.producer().send(new ProducerRecord<>("pcw.questions", "req-unknown", QuestionRecord.newBuilder()
                .setRequest(request("no-such-document", "Who?", "parallel")).build().toByteArray())).get();

        AnswerRecord answer = AnswerRecord.parseFrom(firstRecord("pcw.answers", id).value());
        assertEquals("", answer.getError());
        assertEquals(grpc.text, answer.getText());
        assertEquals(grpc.figures.getTokensOut(), answer.getFigures().getTokensOut());

        AnswerRecord unknown = AnswerRecord.parseFrom(firstRecord("pcw.answers", "req-unknown").value());
        assertTrue(unknown.getError().startsWith("NOT_FOUND"), unknown.getError());

        ConsumerRecord<String, byte[]> dead = firstRecord("pcw.questions.dlq", "poison");
        assertEquals("not a question", new String(dead.value(), StandardCharsets.UTF_8));
        assertEquals("UNPARSEABLE", new String(dead.headers().lastHeader("pcw-reason").value(), StandardCharsets.UTF_8));
        assertNotNull(dead.headers().lastHeader("dead-letter-reason"));
    }

    @Test
    void badRequestsGetTheirStatus() {
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", () -> ask(request("no-such-document", "Who?", "parallel")));
        assertRefused(Status.Code.INVALID_ARGUMENT, "EMPTY_QUESTION", () -> ask(request(document, "  ", "parallel")));
        assertRefused(Status.Code.INVALID_ARGUMENT, "QUESTION_TOO_LONG", () -> ask(request(document, "Who? ".repeat(100), "parallel")));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_STRATEGY", () -> ask(request(document, "Who?", "telepathy")));
        assertRefused(Status.Code.INVALID_ARGUMENT, "NO_DOCUMENTS", () -> ask(AskRequest.newBuilder().setQuestion("Who?").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_QUESTION_FORMAT", () -> ask(request(document, "Who?", "parallel").toBuilder()
                .setQuestionFormat("no placeholder").build()));
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", () -> generator.getDocument(DocumentRef.newBuilder().setDocumentId("nope").build()));
        DocumentManifest m = generator.getDocument(DocumentRef.newBuilder().setDocumentId(document).build());
        assertEquals(windows.size(), m.getWindowCount());
    }

    /**
     * Asks about a document whose last window never arrives hold their slots while they wait; beyond
     * the limit an ask is refused at once; a cancelled ask frees its slot; a waiting ask gives up
     * with DEADLINE_EXCEEDED after pcw.segments.encode-wait.
     */
    @Test
    void slotsAreLimitedAndACancelledAskFreesItsSlot() throws Exception {
        String incomplete = "doc-" + UUID.randomUUID();
        chunker.publish(incomplete, windows.subList(0, 2), 3);
        AskRequest waits = request(incomplete, "Who?", "parallel");
        Cancellable a = startAsk(waits);
        Cancellable b = startAsk(waits);
        awaitFreeSlots(0);
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "BUSY", () -> ask(request(document, "Who?", "parallel")));
        a.observer.cancel("test", null);
        awaitFreeSlots(1);
        assertFalse(ask(request(document, "Where does Hana Brolo live?", "parallel")).text.isEmpty());
        Throwable waited = b.done.handle((v, t) -> t).get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.DEADLINE_EXCEEDED, Status.fromThrowable(waited).getCode(), String.valueOf(waited));
        assertTrue(String.valueOf(waited).contains("WINDOWS_MISSING"), String.valueOf(waited));
        awaitFreeSlots(2);
    }

    // ------------------------------------------------------------------ helpers

    private record Answer(String text, AnswerFigures figures) {}

    private record Cancellable(ClientCallStreamObserver<AskRequest> observer, CompletableFuture<Void> done) {}

    private Answer ask(AskRequest request) {
        StringBuilder text = new StringBuilder();
        AnswerFigures figures = null;
        Iterator<AnswerEvent> events = generator.withDeadlineAfter(120, TimeUnit.SECONDS).ask(request);
        while (events.hasNext()) {
            AnswerEvent e = events.next();
            if (e.hasDone()) figures = e.getDone();
            else text.append(e.getText());
        }
        assertNotNull(figures, "the last event carries the figures");
        return new Answer(text.toString(), figures);
    }

    private Cancellable startAsk(AskRequest request) throws InterruptedException {
        CompletableFuture<ClientCallStreamObserver<AskRequest>> started = new CompletableFuture<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        GeneratorGrpc.newStub(channel).ask(request, new ClientResponseObserver<AskRequest, AnswerEvent>() {
            @Override public void beforeStart(ClientCallStreamObserver<AskRequest> s) { started.complete(s); }
            @Override public void onNext(AnswerEvent value) { }
            @Override public void onError(Throwable t) { done.completeExceptionally(t); }
            @Override public void onCompleted() { done.complete(null); }
        });
        return new Cancellable(started.join(), done);
    }

    private void awaitFreeSlots(int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (asks.freeSlots() != n && System.nanoTime() < end) Thread.sleep(20);
        assertEquals(n, asks.freeSlots(), "free slots");
    }


    private static AskRequest request(String doc, String question, String strategy) {
        return AskRequest.newBuilder().addDocumentIds(doc).setQuestion(question)
                .setStrategy(StrategySpec.newBuilder().setName(strategy))
                .setSampling(Sampling.newBuilder().setMaxTokens(16)).build();
    }

    private static ChatTurn turn(String role, String content) {
        return ChatTurn.newBuilder().setRole(role).setContent(content).build();
    }

    /** What {@code pcw qa} answers in process: the same windows, prefix, strategy and greedy decoding. */
    private String inProcess(String strategy, String question) {
        return inProcessText(strategy, Asks.QUESTION_FORMAT.formatted(question));
    }

    /** The in-process answer when {@code text} follows the document. */
    private String inProcessText(String strategy, String text) {
        Model model = loaded.model();
        int[] q = model.tokenizer().encode(text, false, false);
        var s = StrategySettings.defaults().create(strategy, model, model.config().contextLength(), null);
        var plan = s.plan(new Document(chunker.prefix(), windows), q, new PlanRequest(model, dev.pcwmesh.runtime.context.PositionEncoding.of(model),
                new LocalSegments(model), model.config().contextLength(), 16));
        return new Generator(model, model.tokenizer()).generate(plan, q, SamplingParams.greedy(16), TokenListener.NONE).text();
    }

    private static ConsumerRecord<String, byte[]> firstRecord(String topic, String key) {
        List<ConsumerRecord<String, byte[]>> found = TestTopics.read(topic, key, l -> !l.isEmpty());
        if (found.isEmpty()) throw new AssertionError("no record with key " + key + " on " + topic);
        return found.getFirst();
    }
}
