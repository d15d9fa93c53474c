package dev.pcwmesh.cli;

import dev.pcwmesh.client.MeshClient;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AnswerRecord;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.proto.v1.QuestionRecord;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.context.Document;
import dev.pcwmesh.runtime.context.LocalSegments;
import dev.pcwmesh.runtime.context.PlanRequest;
import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.generate.TokenListener;
import dev.pcwmesh.runtime.model.Model;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole mesh as users run it: {@link Mesh} starts a KRaft broker from Kafka's jars and the three
 * services' built applications as separate processes (on free ports, state under target/), with
 * the shipped demo model; the test talks to them over gRPC and Kafka like any client. Needs the
 * services packaged, which the reactor does before this module's tests ({@code ./mvnw verify}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MeshEndToEndTest {
    private static final Path HOME = TestModels.inRepository("pom.xml").getParent();
    private static final Path MODEL = HOME.resolve("models/pcw-demo.gguf");
    private static final int WINDOW = 179;

    private Mesh mesh;
    private Path state;
    private MeshClient client;
    private Model model;

    @BeforeAll
    void up() throws Exception {
        state = HOME.resolve("cli/target/e2e-mesh-" + UUID.randomUUID().toString().substring(0, 8));
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String name : List.of("kafka", "controller", "chunker", "encoder", "generator")) ports.put(name, freePort());
        mesh = new Mesh(new Mesh.Layout(HOME, state, MODEL, System.getProperty("java.class.path"), ports, WINDOW,
                Path.of(System.getProperty("java.home"))), new PrintWriter(System.out, true));
        mesh.up(Duration.ofMinutes(5));
        client = MeshClient.connect(mesh.layout().address("chunker"), mesh.layout().address("generator"), Duration.ofMinutes(5));
        model = Model.load(MODEL);
    }

    @AfterAll
    void down() throws Exception {
        if (client != null) client.close();
        if (model != null) model.close();
        if (mesh != null) mesh.down();
    }

    @Test
    void answersOverGrpcAndKafkaAlikeAndASecondQuestionEncodesNothing() throws Exception {
        String text = Files.readString(HOME.resolve(DemoCommand.DOCUMENT));
        DocumentManifest m = client.ingest(text.getBytes(StandardCharsets.UTF_8), "text/plain", null);
        assertTrue(m.getWindowCount() >= 8, "at least 8 windows, got " + m.getWindowCount());

        AskRequest first = ask(m.getDocumentId(), "When was Yastyx Gamez born?", "parallel");
        StringBuilder grpc = new StringBuilder();
        AnswerFigures f1 = client.ask(first, grpc::append);
        assertEquals(inProcess(text, m, first), grpc.toString(), "the mesh answers as the runtime does in process");
        assertEquals(m.getWindowCount(), f1.getWindowsUsed());
        assertEquals(0, f1.getSegmentsEncodedHere(), "every segment came from an encoder: " + f1);
        assertEquals(m.getWindowCount() + 1, f1.getSegmentsFetched() + f1.getSegmentCacheHits());

        String requestId = "e2e-" + UUID.randomUUID();
        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>("pcw.questions", requestId, QuestionRecord.newBuilder().setRequest(first).build().toByteArray())).get();
        }
        AnswerRecord kafka = AnswerRecord.parseFrom(firstRecord("pcw.answers", requestId).value());
        assertEquals("", kafka.getError());
        assertEquals(grpc.toString(), kafka.getText());

        AnswerFigures f2 = client.ask(ask(m.getDocumentId(), "Who is Nousloum Piaholm married to?", "parallel"), s -> { });
        assertEquals(0, f2.getSegmentsFetched(), "a second question fetches nothing: " + f2);
        assertEquals(0, f2.getSegmentsEncodedHere());
        assertEquals(m.getWindowCount() + 1, f2.getSegmentCacheHits());

        for (String strategy : List.of("select", "sequential")) {
            AskRequest r = ask(m.getDocumentId(), "When does the coach to Pithheim depart?", strategy);
            StringBuilder answer = new StringBuilder();
            client.ask(r, answer::append);
            assertEquals(inProcess(text, m, r), answer.toString(), strategy);
        }
    }

    @Test
    void theSameDocumentTwiceIsEncodedOnce() throws Exception {
        String text = "The code of Hoane is TN-8087. Few people walked by the pond after dark.\n\nThe tram to Mandvale departs at 03:08.";
        DocumentManifest m = client.ingest(text.getBytes(StandardCharsets.UTF_8), "text/plain", null);
        client.ask(ask(m.getDocumentId(), "What is the code of Hoane?", "parallel"), s -> { });
        double encoded = encoderMetric("pcw_encoder_windows_encoded_total");
        DocumentManifest again = client.ingest(text.getBytes(StandardCharsets.UTF_8), "text/plain", null);
        assertEquals(m.getDocumentId(), again.getDocumentId(), "content-derived id");
        client.ask(ask(m.getDocumentId(), "When does the tram to Mandvale depart?", "parallel"), s -> { });
        Thread.sleep(2000);   // the encoders have seen the second copy of the windows by now
        assertEquals(encoded, encoderMetric("pcw_encoder_windows_encoded_total"), "no window encoded twice");
    }

    @Test
    void badInputGetsItsStatus() throws Exception {
        assertCode(Status.Code.NOT_FOUND, () -> client.document("no-such-document"));
        assertCode(Status.Code.NOT_FOUND, () -> client.ask(ask("no-such-document", "Who?", "parallel"), s -> { }));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> client.ingest(new byte[0], "text/plain", null));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> client.ingest(new byte[] {'a', 0, 'b', 0}, "text/plain", null));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> client.ingest(new byte[17 << 20], "text/plain", null));
        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>("pcw.documents", "poison-" + UUID.randomUUID(), new byte[] {1, 2, 3})).get();
        }
        ConsumerRecord<String, byte[]> dead = firstRecordWhere("pcw.documents.dlq", r -> r.key() != null && r.key().startsWith("poison-"));
        assertTrue(dead.headers().lastHeader("pcw-reason") != null, "the dead letter says why");
    }

    /** An encoder killed while it encodes a document's windows is started again; the windows it had not published are redelivered to it. */
    @Test
    void aKilledEncoderFinishesTheDocumentAfterRestart() throws Exception {
        StringBuilder text = new StringBuilder();
        for (String p : Files.readString(HOME.resolve(DemoCommand.DOCUMENT)).split("\n\n")) text.insert(0, p + "\n\n");
        DocumentManifest m = client.ingest(IngestRequest.newBuilder().setText(text.toString().strip()).setInstruction("Facts:").build());
        mesh.stop("encoder", true);
        mesh.up(Duration.ofMinutes(3));
        DocumentManifest waited = client.ingest(IngestRequest.newBuilder().setText(text.toString().strip()).setInstruction("Facts:")
                .setWaitUntilEncoded(true).build());
        assertEquals(m.getDocumentId(), waited.getDocumentId());
        assertEquals(m.getWindowCount(), waited.getWindowsEncoded(), "wait_until_encoded returns once every window is encoded");
        AskRequest r = ask(m.getDocumentId(), "Who is Nousloum Piaholm married to?", "parallel");
        StringBuilder answer = new StringBuilder();
        AnswerFigures f = client.ask(r, answer::append);
        assertEquals(0, f.getSegmentsEncodedHere(), "the restarted encoder completed the document: " + f);
        assertEquals(inProcess(text.toString().strip(), client.document(m.getDocumentId()), r), answer.toString());
    }

    @Test
    void statusIngestAndAskCommands() throws Exception {
        CliRun status = CliRun.run(withMesh("mesh", "status"));
        assertEquals(0, status.exitCode(), status.out() + status.err());
        assertEquals(4, status.out().split("ready", -1).length - 1, status.out());

        Path file = state.resolve("note.md");
        Files.writeString(file, "# Note\n\nThe ferry to Kelmouth departs at 07:15. Rain fell for five days without stopping.\n");
        CliRun ingest = CliRun.run(withMesh("ingest", file.toString()));
        assertEquals(0, ingest.exitCode(), ingest.err());
        String id = ingest.out().strip();
        assertTrue(id.matches("[0-9a-f]{64}"), id);
        assertTrue(ingest.err().contains("1 windows"), ingest.err());

        CliRun ask = CliRun.run(withMesh("ask", id, "When does the ferry to Kelmouth depart?", "-n", "16"));
        assertEquals(0, ask.exitCode(), ask.err());
        assertTrue(ask.out().contains("[1/1 windows"), ask.out());
        CliRun unknown = CliRun.run(withMesh("ask", "no-such-document", "Who?"));
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.err().contains("NOT_FOUND"), unknown.err());
    }

    @Test
    void demoRunsAgainstTheRunningMesh() {
        CliRun r = CliRun.run(withMesh("demo", "--keep"));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("12 windows"), r.out());
        assertEquals(3, r.out().split("\nQ: ", -1).length - 1, r.out());
        // Whatever ran before, the last question finds every segment cached.
        assertTrue(r.out().lastIndexOf("segments: 13 cached, 0 fetched, 0 encoded here") > r.out().lastIndexOf("\nQ: "), r.out());
    }

    // ------------------------------------------------------------------ helpers

    /** A pcw command line addressed to this test's mesh (its state directory and ports). */
    private String[] withMesh(String... args) {
        Map<String, Integer> p = mesh.layout().ports();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--state", state.toString(), "--kafka-port", p.get("kafka").toString(), "--chunker-port", p.get("chunker").toString(),
                "--encoder-port", p.get("encoder").toString(), "--generator-port", p.get("generator").toString()));
        return all.toArray(String[]::new);
    }

    private static AskRequest ask(String doc, String question, String strategy) {
        return AskRequest.newBuilder().addDocumentIds(doc).setQuestion(question).setStrategy(StrategySpec.newBuilder().setName(strategy))
                .setSampling(Sampling.newBuilder().setMaxTokens(24)).build();
    }

    /** The same question in process: the chunker's own windows (Split), the manifest's prefix, the strategy, greedy decoding. */
    private String inProcess(String text, DocumentManifest m, AskRequest r) {
        List<int[]> windows = new ArrayList<>();
        for (Window w : client.split(text, WINDOW).getWindowsList()) windows.add(w.getTokensList().stream().mapToInt(Integer::intValue).toArray());
        int[] prefix = m.getPrefixTokensList().stream().mapToInt(Integer::intValue).toArray();
        int[] q = model.tokenizer().encode("\n\nQuestion: %s\nAnswer:".formatted(r.getQuestion()), false, false);
        var strategy = StrategySettings.defaults().create(r.getStrategy().getName(), model, model.config().contextLength(), null);
        var plan = strategy.plan(new Document(prefix, windows), q, PlanRequest.local(model, 24));
        return new Generator(model, model.tokenizer()).generate(plan, q, SamplingParams.greedy(24), TokenListener.NONE).text();
    }

    private double encoderMetric(String name) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://" + mesh.layout().address("encoder") + "/q/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher x = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(body);
            assertTrue(x.find(), name + " in the encoder's metrics");
            return Double.parseDouble(x.group(2));
        }
    }

    private KafkaProducer<String, byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, mesh.layout().bootstrap());
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    private ConsumerRecord<String, byte[]> firstRecord(String topic, String key) {
        return firstRecordWhere(topic, r -> key.equals(r.key()));
    }

    private ConsumerRecord<String, byte[]> firstRecordWhere(String topic, java.util.function.Predicate<ConsumerRecord<String, byte[]>> wanted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, mesh.layout().bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "e2e-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (System.nanoTime() < end) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) if (wanted.test(r)) return r;
            }
        }
        throw new AssertionError("no such record on " + topic);
    }

    private static void assertCode(Status.Code code, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.toString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
