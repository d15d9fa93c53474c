package dev.pcwmesh.chunker;

import com.google.protobuf.ByteString;
import dev.pcwmesh.proto.v1.ChunkerGrpc;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.proto.v1.SplitRequest;
import dev.pcwmesh.proto.v1.SplitResponse;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.service.Rejected;
import dev.pcwmesh.service.testing.TestTopics;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static dev.pcwmesh.service.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chunker service end to end: real gRPC on loopback, a real Kafka broker in this JVM, the real
 * tokenizer of stories260K. Limits in the test profile ({@code %test.} in application.properties):
 * 64 KiB documents, 64 windows, W = 200 by default (the fallback model's context is 256).
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaAndModelResource.class, restrictToAnnotatedClass = true)
class ChunkerServiceTest {
    static final String STORY = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. \
            One day, she saw a big red ball in the park. She ran to the ball and kicked it high into the sky!

            Lily's friend Tom came to play too. "Can I kick the ball?" he asked. Lily smiled and said yes. \
            They played together all afternoon, laughing and running on the green grass.

            When the sun went down, Lily and Tom went home. They were tired but happy. \
            Lily's mom gave her a warm hug and a glass of milk. It was the best day ever.
            """;

    @GrpcClient("chunker")
    ChunkerGrpc.ChunkerBlockingStub chunker;

    @Inject
    ModelTokenizer model;

    @ConfigProperty(name = "quarkus.http.test-port")
    int port;

    @Test
    void splitGivesWindowsOfAtMostWTokensThatConcatenateToTheDocument() {
        String text = STORY.repeat(3);
        int[] tokens = model.tokenizer().encode(text, false, false);
        for (int w : new int[] {16, 64, 100}) {
            SplitResponse r = chunker.split(SplitRequest.newBuilder().setText(text).setMaxWindowTokens(w).build());
            assertTrue(r.getWindowsCount() >= tokens.length / w, "at least " + tokens.length / w + " windows");
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < r.getWindowsCount(); i++) {
                Window win = r.getWindows(i);
                assertEquals(i, win.getIndex());
                assertTrue(win.getTokensCount() >= 1 && win.getTokensCount() <= w, "window of " + win.getTokensCount() + " tokens, W = " + w);
                assertEquals("", win.getDocumentId());
                assertEquals(model.fingerprint(), win.getModelFingerprint());
                all.addAll(win.getTokensList());
            }
            assertArrayEquals(tokens, all.stream().mapToInt(Integer::intValue).toArray(), "windows concatenate to the document's tokens");
        }
        // W = 64: windows end at sentence ends (each sentence of the story is shorter than three quarters of W).
        SplitResponse r = chunker.split(SplitRequest.newBuilder().setText(text).setMaxWindowTokens(64).build());
        for (int i = 0; i < r.getWindowsCount() - 1; i++) {
            String t = r.getWindows(i).getText().strip();
            assertTrue(t.endsWith(".") || t.endsWith("!") || t.endsWith("?") || t.endsWith("\""), "window " + i + " ends mid-sentence: " + t);
        }
        // max_window_tokens 0 means the service's default (pcw.window-tokens, 200 in the test profile).
        SplitResponse byDefault = chunker.split(SplitRequest.newBuilder().setText(text).build());
        assertEquals(chunker.split(SplitRequest.newBuilder().setText(text).setMaxWindowTokens(200).build()), byDefault);
    }

    /** Chinese (stories260K spells it in byte tokens): windows end after 。！？ and never split a character. */
    @Test
    void chineseSplitsAtSentenceEnds() {
        String text = "今天天气很好。我们去公园散步吧！你觉得怎么样？小猫在树下睡觉。".repeat(10);
        SplitResponse r = chunker.split(SplitRequest.newBuilder().setText(text).setMaxWindowTokens(100).build());
        assertTrue(r.getWindowsCount() > 5);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < r.getWindowsCount(); i++) {
            String t = r.getWindows(i).getText();
            assertFalse(t.contains("\uFFFD"), "window " + i + " holds part of a character");
            if (i < r.getWindowsCount() - 1) assertTrue(t.endsWith("。") || t.endsWith("！") || t.endsWith("？"), "window " + i + ": " + t);
            all.append(t);
        }
        assertEquals(text, all.toString().strip());
    }

    @Test
    void ingestPublishesEveryWindowAndTheManifest() throws Exception {
        String id = "story-ingest-1";
        String text = STORY.repeat(2);
        DocumentManifest m = chunker.ingest(IngestRequest.newBuilder().setText(text).setDocumentId(id)
                .setInstruction("Read the story.").setMaxWindowTokens(48).build());
        assertEquals(id, m.getDocumentId());
        assertTrue(m.getWindowCount() > 3);
        assertEquals(m.getWindowCount(), m.getWindowTokensCount());
        assertEquals(48, m.getMaxWindowTokens());
        assertEquals("text/plain", m.getMediaType());
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, m.getTextBytes());
        try (GgufFile f = GgufFile.open(KafkaAndModelResource.model())) {
            assertEquals(Model.fingerprint(f), m.getModelFingerprint());
        }
        int[] prefix = model.prefix("Read the story.");
        assertArrayEquals(prefix, m.getPrefixTokensList().stream().mapToInt(Integer::intValue).toArray());
        assertEquals(model.tokenizer().bos(), m.getPrefixTokens(0), "the prefix starts with BOS");

        assertEquals("compact", TestTopics.config("pcw.manifests", "cleanup.policy"), "manifests are compacted");
        List<ConsumerRecord<String, byte[]>> manifests = TestTopics.read("pcw.manifests", id, l -> !l.isEmpty());
        assertEquals(1, manifests.size());
        assertEquals(m, DocumentManifest.parseFrom(manifests.getFirst().value()));

        assertEquals("compact", TestTopics.config("pcw.windows", "cleanup.policy"), "windows are compacted");
        List<ConsumerRecord<String, byte[]>> records = TestTopics.read("pcw.windows", (String k) -> k.startsWith(id + "/"), l -> l.size() >= m.getWindowCount());
        assertEquals(m.getWindowCount(), records.size());
        List<Window> windows = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            Window w = Window.parseFrom(r.value());
            assertEquals(id + "/" + w.getIndex(), r.key(), "a window's key names the window, so one document's windows spread over partitions");
            windows.add(w);
        }
        windows.sort(Comparator.comparingInt(Window::getIndex));
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            Window w = windows.get(i);
            assertEquals(i, w.getIndex());
            assertEquals(id, w.getDocumentId());
            assertEquals(m.getWindowTokens(i), w.getTokensCount());
            assertEquals(m.getModelFingerprint(), w.getModelFingerprint());
            assertEquals(m.getPrefixTokensList(), w.getPrefixTokensList(), "every window carries the shared prefix");
            all.addAll(w.getTokensList());
        }
        assertArrayEquals(model.tokenizer().encode(text, false, false), all.stream().mapToInt(Integer::intValue).toArray());
    }

    /** No encoder runs in these tests: a wait for encoding ends at pcw.limits.encode-wait (2 s here), with the document ingested. */
    @Test
    void waitUntilEncodedGivesUpAtTheLimitButTheDocumentIsIngested() throws Exception {
        String id = "story-wait-1";
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> chunker.ingest(IngestRequest.newBuilder()
                .setText(STORY).setDocumentId(id).setMaxWindowTokens(64).setWaitUntilEncoded(true).build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("NOT_ENCODED"), e.getStatus().getDescription());
        assertEquals(1, TestTopics.read("pcw.manifests", id, l -> !l.isEmpty()).size(), "the manifest is published all the same");
    }

    @Test
    void theSameTextTwiceGetsTheSameContentId() {
        IngestRequest req = IngestRequest.newBuilder().setText("The cat sat on the mat. " + STORY).setMaxWindowTokens(64).build();
        DocumentManifest a = chunker.ingest(req), b = chunker.ingest(req);
        assertEquals(a.getDocumentId(), b.getDocumentId());
        assertTrue(a.getDocumentId().matches("[0-9a-f]{64}"), a.getDocumentId());
        assertEquals(Documents.contentId(model.fingerprint(), 64, "", req.getText()), a.getDocumentId());
        // The same text as bytes is the same document; another window size or instruction is another.
        DocumentManifest bytes = chunker.ingest(req.toBuilder().setData(ByteString.copyFromUtf8(req.getText())).build());
        assertEquals(a.getDocumentId(), bytes.getDocumentId());
        assertNotEquals(a.getDocumentId(), chunker.ingest(req.toBuilder().setMaxWindowTokens(32).build()).getDocumentId());
        assertNotEquals(a.getDocumentId(), chunker.ingest(req.toBuilder().setInstruction("Summarise.").build()).getDocumentId());
    }

    @Test
    void badDocumentsAreRefusedWithAReason() {
        assertRefused(Status.Code.INVALID_ARGUMENT, "EMPTY", () -> chunker.ingest(IngestRequest.newBuilder().setText("").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "EMPTY", () -> chunker.ingest(IngestRequest.newBuilder().setText(" \n\t ").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "EMPTY", () -> chunker.split(SplitRequest.newBuilder().setText("").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BINARY", () -> chunker.ingest(IngestRequest.newBuilder()
                .setData(ByteString.copyFrom(new byte[] {'a', 'b', 0, 1, 2, 'c'})).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BINARY", () -> chunker.split(SplitRequest.newBuilder().setText("a\u0000b").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "INVALID_UTF8", () -> chunker.ingest(IngestRequest.newBuilder()
                .setData(ByteString.copyFrom(new byte[] {'a', 'b', (byte) 0xC3, (byte) 0x28, 'c'})).setMediaType("text/plain").build()));
        String big = "x".repeat(70_000);
        assertRefused(Status.Code.INVALID_ARGUMENT, "TOO_LARGE", () -> chunker.ingest(IngestRequest.newBuilder().setText(big).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "TOO_LARGE", () -> chunker.ingest(IngestRequest.newBuilder().setData(ByteString.copyFromUtf8(big)).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "TOO_LARGE", () -> chunker.split(SplitRequest.newBuilder().setText(big).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "UNSUPPORTED_MEDIA_TYPE", () -> chunker.ingest(IngestRequest.newBuilder()
                .setText("hello").setMediaType("image/png").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "UNREADABLE_PDF", () -> chunker.ingest(IngestRequest.newBuilder()
                .setData(ByteString.copyFromUtf8("%PDF-1.7 but not really")).setMediaType("application/pdf").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_DOCUMENT_ID", () -> chunker.ingest(IngestRequest.newBuilder()
                .setText("hello").setDocumentId("no spaces allowed").build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "WINDOW_TOO_LARGE", () -> chunker.split(SplitRequest.newBuilder()
                .setText("hello").setMaxWindowTokens(1_000_000).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_WINDOW", () -> chunker.split(SplitRequest.newBuilder()
                .setText("hello").setMaxWindowTokens(-3).build()));
    }

    @Test
    void tooManyWindowsIsResourceExhausted() {
        String text = STORY.repeat(20);       // ~10k tokens of stories260K: far more than 64 windows of 16
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_WINDOWS", () -> chunker.ingest(IngestRequest.newBuilder()
                .setText(text).setMaxWindowTokens(16).build()));
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_WINDOWS", () -> chunker.split(SplitRequest.newBuilder()
                .setText(text).setMaxWindowTokens(16).build()));
    }

    @Test
    void htmlIsExtracted() throws Exception {
        String html = """
                <!DOCTYPE html><html><head><title>Ignored title</title><style>p { color: red }</style>
                <script>var secret = "do not index";</script></head>
                <body><h1>Lily and the Ball</h1>
                <p>Once upon a time, there was a little girl named Lily.</p>
                <p>She saw a <b>big</b> red ball &amp; kicked it.<br>It flew high!</p>
                <ul><li>Tom came.</li><li>They played.</li></ul></body></html>
                """;
        String id = "html-doc-1";
        DocumentManifest m = chunker.ingest(IngestRequest.newBuilder().setData(ByteString.copyFromUtf8(html))
                .setMediaType("text/html; charset=utf-8").setDocumentId(id).build());
        assertEquals("text/html", m.getMediaType());
        String text = windowText(id, m.getWindowCount());
        assertTrue(text.contains("Lily and the Ball"), text);
        assertTrue(text.contains("Once upon a time, there was a little girl named Lily."), text);
        assertTrue(text.contains("big red ball & kicked it.\nIt flew high!"), text);
        assertTrue(text.contains("Tom came."), text);
        assertFalse(text.contains("secret") || text.contains("color") || text.contains("<"), text);
    }

    @Test
    void pdfIsExtracted() throws Exception {
        byte[] pdf;
        try (PDDocument doc = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            PDPage page = new PDPage();
            doc.addPage(page);
            try (PDPageContentStream cs = new PDPageContentStream(doc, page)) {
                cs.beginText();
                cs.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 12);
                cs.setLeading(16);
                cs.newLineAtOffset(72, 700);
                cs.showText("Once upon a time, there was a little girl named Lily.");
                cs.newLine();
                cs.showText("She loved to play outside in the sunshine.");
                cs.endText();
            }
            doc.save(out);
            pdf = out.toByteArray();
        }
        String id = "pdf-doc-1";
        DocumentManifest m = chunker.ingest(IngestRequest.newBuilder().setData(ByteString.copyFrom(pdf))
                .setMediaType("application/pdf").setDocumentId(id).build());
        assertEquals("application/pdf", m.getMediaType());
        assertEquals(pdf.length, m.getTextBytes());
        String text = windowText(id, m.getWindowCount());
        assertTrue(text.contains("Once upon a time, there was a little girl named Lily."), text);
        assertTrue(text.contains("She loved to play outside in the sunshine."), text);
    }

    @Test
    void kafkaSideIngestAndPoisonRecordsGoToTheDeadLetterTopic() throws Exception {
        // A good record: ingested, its manifest keyed by the record key (the request names no id).
        IngestRequest good = IngestRequest.newBuilder().setText(STORY).setMaxWindowTokens(64).build();
        TestTopics.send("pcw.documents", "kafka-doc-1", good.toByteArray());
        List<ConsumerRecord<String, byte[]>> manifests = TestTopics.read("pcw.manifests", "kafka-doc-1", l -> !l.isEmpty());
        assertEquals(1, manifests.size(), "the Kafka-side ingest published a manifest");
        assertTrue(DocumentManifest.parseFrom(manifests.getFirst().value()).getWindowCount() >= 1);

        // Poison: not a protobuf message at all.
        byte[] poison = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01, 0x02};
        TestTopics.send("pcw.documents", "poison-1", poison);
        ConsumerRecord<String, byte[]> dead = TestTopics.read("pcw.documents.dlq", "poison-1", l -> !l.isEmpty()).getFirst();
        assertArrayEquals(poison, dead.value(), "the dead letter carries the record unchanged");
        assertEquals("UNPARSEABLE", TestTopics.header(dead, "pcw-reason"));
        assertEquals("INVALID_ARGUMENT", TestTopics.header(dead, "pcw-status"));
        assertTrue(TestTopics.header(dead, "dead-letter-reason").contains("IngestRequest"), TestTopics.header(dead, "dead-letter-reason"));
        assertEquals("pcw.documents", TestTopics.header(dead, "dead-letter-topic"));

        // A well-formed request with bad content: the same reasons as over gRPC.
        TestTopics.send("pcw.documents", "poison-2", IngestRequest.newBuilder().setData(ByteString.copyFrom(new byte[] {'a', 0})).build().toByteArray());
        assertEquals("BINARY", TestTopics.header(TestTopics.read("pcw.documents.dlq", "poison-2", l -> !l.isEmpty()).getFirst(), "pcw-reason"));
    }

    @Test
    void healthAndMetrics() throws Exception {
        chunker.split(SplitRequest.newBuilder().setText(STORY).build());
        chunker.ingest(IngestRequest.newBuilder().setText(STORY).setDocumentId("metrics-doc").build());
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"pcw-chunker\"") && ready.body().contains("reachable"), ready.body());
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("pcw_chunker_documents_ingested_total"), "documents ingested counter");
        assertTrue(metrics.body().contains("pcw_chunker_windows_published_total"), "windows published counter");
    }

    private static String windowText(String id, int count) throws Exception {
        List<Window> windows = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : TestTopics.read("pcw.windows", (String k) -> k.startsWith(id + "/"), l -> l.size() >= count)) {
            windows.add(Window.parseFrom(r.value()));
        }
        windows.sort(Comparator.comparingInt(Window::getIndex));
        StringBuilder sb = new StringBuilder();
        for (Window w : windows) sb.append(w.getText());
        return sb.toString();
    }


}
