package dev.pcwmesh.encoder;

import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.mesh.SegmentParts;
import dev.pcwmesh.proto.v1.EncodeRequest;
import dev.pcwmesh.proto.v1.EncodeResponse;
import dev.pcwmesh.proto.v1.EncoderGrpc;
import dev.pcwmesh.proto.v1.FetchRequest;
import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.proto.v1.SegmentPart;
import dev.pcwmesh.proto.v1.StrategySpec;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.context.Encoder;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.kv.KvSegmentCodec;
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
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.pcwmesh.service.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoder service end to end: a real Kafka broker in this JVM, real gRPC on loopback, the real
 * model (stories260K). What it serves is compared with what the runtime's {@link Encoder} produces in
 * this process for the same tokens, byte for byte. Test profile: windows of at most 120 tokens, parts
 * of 4 KiB, 200 kB of segments in memory, 2 concurrent Encode calls.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaAndModelResource.class, restrictToAnnotatedClass = true)
class EncoderServiceTest {
    static final String STORY = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. \
            One day, she saw a big red ball in the park. She ran to the ball and kicked it high into the sky! \
            Lily's friend Tom came to play too. "Can I kick the ball?" he asked. Lily smiled and said yes. \
            They played together all afternoon, laughing and running on the green grass.
            """;

    static Model model;

    @GrpcClient("encoder")
    EncoderGrpc.EncoderBlockingStub encoder;

    @Inject
    WindowEncoder service;

    @Inject
    SegmentStore store;

    @Inject
    EncodeSlots slots;

    @ConfigProperty(name = "quarkus.http.test-port")
    int port;

    @BeforeAll
    static void loadModel() {
        model = Model.load(KafkaAndModelResource.model());      // loaded again here: the in-process reference
    }

    @AfterAll
    static void closeModel() {
        model.close();
    }

    static int[] prefix(String instruction) {
        int[] text = model.tokenizer().encode(instruction, false, false);
        int[] out = new int[text.length + 1];
        out[0] = model.tokenizer().bos();
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    /** The story's tokens cut into windows of {@code w}. */
    static List<int[]> windows(String text, int w) {
        int[] all = model.tokenizer().encode(text, false, false);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < all.length; i += w) out.add(Arrays.copyOfRange(all, i, Math.min(all.length, i + w)));
        return out;
    }

    static Window window(String doc, int index, int[] tokens, int[] prefix) {
        return Window.newBuilder().setDocumentId(doc).setIndex(index).setModelFingerprint(model.fingerprint())
                .addAllTokens(Arrays.stream(tokens).boxed().toList()).addAllPrefixTokens(Arrays.stream(prefix).boxed().toList()).build();
    }

    static byte[] bytes(KvSegment s) {
        return KvSegmentCodec.toBytes(s, KvSegmentCodec.Payload.F16);
    }

    List<SegmentPart> fetchParts(String id, long offset) {
        List<SegmentPart> parts = new ArrayList<>();
        Iterator<SegmentPart> it = encoder.fetchSegments(FetchRequest.newBuilder().setSegmentId(id).setOffset(offset).build());
        it.forEachRemaining(parts::add);
        return parts;
    }

    static SegmentParts.Part part(SegmentPart p) {
        return new SegmentParts.Part(p.getOffset(), p.getTotalBytes(), p.getData().toByteArray(), p.getCrc32C());
    }

    byte[] fetch(String id) {
        SegmentParts.Assembler a = new SegmentParts.Assembler(id);
        for (SegmentPart p : fetchParts(id, 0)) a.accept(part(p));
        return a.result();
    }

    @Test
    void windowsOnKafkaBecomeSegmentsOnPcwSegmentsIdenticalToTheRuntimes() throws Exception {
        String doc = "kafka-doc-1";
        int[] prefix = prefix("Read the story.");
        List<int[]> windows = windows(STORY, 40);
        assertTrue(windows.size() >= 3);
        for (int i = 0; i < windows.size(); i++) {
            TestTopics.send("pcw.windows", doc + "/" + i, window(doc, i, windows.get(i), prefix).toByteArray());
        }
        // Two workers may each publish the prefix's location before either has it acknowledged: count keys, not records.
        List<ConsumerRecord<String, byte[]>> records = TestTopics.read("pcw.segments", (String k) -> k.startsWith(doc + "/"),
                l -> l.stream().map(ConsumerRecord::key).distinct().count() >= windows.size() + 1);
        Map<String, SegmentLocation> byKey = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) byKey.put(r.key(), SegmentLocation.parseFrom(r.value()));
        assertEquals(windows.size() + 1, byKey.size(), "one location per window and one for the prefix");
        assertEquals("compact", TestTopics.config("pcw.segments", "cleanup.policy"), "segments are compacted");
        assertEquals("compact", TestTopics.config("pcw.windows", "cleanup.policy"), "windows are compacted");

        // The runtime, in this process: the prefix from 0, each window after it at the prefix's length.
        Encoder reference = new Encoder(model);
        KvSegment p = reference.encode(prefix, 0);
        SegmentLocation pl = byKey.get(doc + "/prefix");
        assertEquals(-1, pl.getWindowIndex());
        assertEquals(p.id(), pl.getSegmentId());
        assertArrayEquals(bytes(p), fetch(pl.getSegmentId()), "the prefix segment, byte for byte");
        for (int i = 0; i < windows.size(); i++) {
            KvSegment expected = reference.encode(windows.get(i), prefix.length, p);
            SegmentLocation l = byKey.get(doc + "/" + i);
            assertEquals(expected.id(), l.getSegmentId(), "window " + i);
            assertEquals(doc, l.getDocumentId());
            assertEquals(i, l.getWindowIndex());
            assertEquals(windows.get(i).length, l.getTokenCount());
            assertEquals("localhost:" + port, l.getEncoderAddress());
            assertEquals(PositionEncoding.of(model).describe(), l.getPositionEncoding());
            byte[] served = fetch(l.getSegmentId());
            assertEquals(served.length, l.getByteSize());
            assertArrayEquals(bytes(expected), served, "window " + i + ": the served segment is the runtime's, byte for byte");
            KvSegment decoded = KvSegmentCodec.fromBytes(served);
            assertEquals(expected.id(), decoded.id());
            assertArrayEquals(expected.positions(), decoded.positions());
            assertEquals(prefix.length, decoded.startPosition());
        }
    }

    @Test
    void theSameWindowDeliveredTwiceIsEncodedOnce() throws Exception {
        String doc = "dup-doc";
        int[] prefix = prefix("Answer briefly.");
        Window w = window(doc, 0, windows("The dog barked at the cat. The cat ran up a tree.", 100).getFirst(), prefix);
        long encodedBefore = service.windowsEncoded();
        long storedBefore = service.alreadyStoredCount();
        TestTopics.send("pcw.windows", doc + "/0", w.toByteArray());
        List<ConsumerRecord<String, byte[]>> first = TestTopics.read("pcw.segments", doc + "/0", l -> !l.isEmpty());
        assertEquals(1, first.size());
        assertEquals(encodedBefore + 1, service.windowsEncoded());
        TestTopics.send("pcw.windows", doc + "/0", w.toByteArray());
        List<ConsumerRecord<String, byte[]>> both = TestTopics.read("pcw.segments", doc + "/0", l -> l.size() >= 2);
        assertEquals(2, both.size(), "the location is published again");
        assertEquals(SegmentLocation.parseFrom(both.get(0).value()), SegmentLocation.parseFrom(both.get(1).value()));
        assertEquals(encodedBefore + 1, service.windowsEncoded(), "but the window is not encoded again");
        assertTrue(service.alreadyStoredCount() > storedBefore);
        assertEquals(1, TestTopics.readToEnd("pcw.segments", (doc + "/prefix")::equals).size(), "the prefix location once per document");
    }

    @Test
    void windowsThatCannotBeEncodedGoToTheDeadLetterTopicWithTheirReason() throws Exception {
        int[] prefix = prefix("Read.");
        int[] tokens = windows(STORY, 30).getFirst();
        Window wrongModel = window("dlq-doc", 0, tokens, prefix).toBuilder().setModelFingerprint("f".repeat(64)).build();
        TestTopics.send("pcw.windows", "dlq-doc/0", wrongModel.toByteArray());
        ConsumerRecord<String, byte[]> dead = TestTopics.read("pcw.windows.dlq", "dlq-doc/0", l -> !l.isEmpty()).getFirst();
        assertArrayEquals(wrongModel.toByteArray(), dead.value(), "the dead letter carries the window unchanged");
        assertEquals("WRONG_MODEL", TestTopics.header(dead, "pcw-reason"));
        assertEquals("FAILED_PRECONDITION", TestTopics.header(dead, "pcw-status"));
        assertTrue(TestTopics.header(dead, "dead-letter-reason").contains(model.fingerprint()), TestTopics.header(dead, "dead-letter-reason"));
        assertEquals("pcw.windows", TestTopics.header(dead, "dead-letter-topic"));

        int[] tooLong = windows(STORY.repeat(3), 121).getFirst();
        assertEquals(121, tooLong.length);
        TestTopics.send("pcw.windows", "dlq-doc/1", window("dlq-doc", 1, tooLong, prefix).toByteArray());
        assertEquals("WINDOW_TOO_LONG", TestTopics.header(TestTopics.read("pcw.windows.dlq", "dlq-doc/1", l -> !l.isEmpty()).getFirst(), "pcw-reason"));

        TestTopics.send("pcw.windows", "dlq-doc/2", new byte[] {(byte) 0xFF, (byte) 0xFF, 0x01});
        assertEquals("UNPARSEABLE", TestTopics.header(TestTopics.read("pcw.windows.dlq", "dlq-doc/2", l -> !l.isEmpty()).getFirst(), "pcw-reason"));
        assertTrue(TestTopics.readToEnd("pcw.segments", k -> k.startsWith("dlq-doc/")).isEmpty(), "nothing was published for them");
    }

    @Test
    void fetchSegmentsStreamsPartsThatReassembleResumeAndExposeCorruption() {
        int[] prefix = prefix("Tell me about Lily.");
        int[] tokens = windows(STORY.repeat(2), 110).getFirst();
        EncodeResponse r = encoder.encode(EncodeRequest.newBuilder()
                .addAllPrefixTokens(Arrays.stream(prefix).boxed().toList())
                .addWindows(window("parts-doc", 0, tokens, new int[0])).build());
        assertEquals(2, r.getSegmentsCount(), "the prefix, then the window");
        assertEquals(-1, r.getSegments(0).getWindowIndex());
        Encoder reference = new Encoder(model);
        KvSegment p = reference.encode(prefix, 0);
        byte[] expected = bytes(reference.encode(tokens, prefix.length, p));
        String id = r.getSegments(1).getSegmentId();

        List<SegmentPart> parts = fetchParts(id, 0);
        assertEquals((expected.length + 4095) / 4096, parts.size(), "parts of at most 4 KiB (test profile)");
        assertTrue(parts.size() >= 4, parts.size() + " parts");
        for (SegmentPart part : parts) {
            assertTrue(part.getData().size() <= 4096);
            assertEquals(id, part.getSegmentId());
            assertEquals(expected.length, part.getTotalBytes());
        }
        SegmentParts.Assembler whole = new SegmentParts.Assembler(id);
        parts.forEach(x -> whole.accept(part(x)));
        assertArrayEquals(expected, whole.result(), "reassembled byte for byte");

        // Resume after a broken transfer, from an offset that is not a part boundary.
        int resumeAt = 2 * 4096 + 123;
        SegmentParts.Assembler resumed = SegmentParts.Assembler.resume(id, Arrays.copyOf(expected, resumeAt));
        List<SegmentPart> rest = fetchParts(id, resumeAt);
        assertEquals(resumeAt, rest.getFirst().getOffset());
        rest.forEach(x -> resumed.accept(part(x)));
        assertArrayEquals(expected, resumed.result());

        // A corrupted part and a missing part are detected.
        SegmentParts.Assembler corrupted = new SegmentParts.Assembler(id);
        corrupted.accept(part(parts.get(0)));
        byte[] flipped = parts.get(1).getData().toByteArray();
        flipped[100] ^= 0x10;
        SegmentPart bad = parts.get(1).toBuilder().setData(com.google.protobuf.ByteString.copyFrom(flipped)).build();
        assertThrows(SegmentParts.TransferException.class, () -> corrupted.accept(part(bad)));
        SegmentParts.Assembler gap = new SegmentParts.Assembler(id);
        gap.accept(part(parts.get(0)));
        assertThrows(SegmentParts.TransferException.class, () -> gap.accept(part(parts.get(2))));

        // Bad requests.
        assertRefused(Status.Code.NOT_FOUND, "UNKNOWN_SEGMENT", () -> fetchParts("%064x".formatted(12345), 0));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_SEGMENT_ID", () -> fetchParts("../../etc/passwd", 0));
        assertRefused(Status.Code.OUT_OF_RANGE, "BAD_OFFSET", () -> fetchParts(id, expected.length));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_OFFSET", () -> fetchParts(id, -1));
    }

    @Test
    void encodeRefusesWithAReason() {
        int[] prefix = prefix("Read.");
        int[] tokens = windows(STORY, 50).getFirst();
        Supplier<EncodeRequest.Builder> good = () -> EncodeRequest.newBuilder()
                .addAllPrefixTokens(Arrays.stream(prefix).boxed().toList()).addWindows(window("refused", 0, tokens, new int[0]));
        assertRefused(Status.Code.INVALID_ARGUMENT, "EMPTY", () -> encoder.encode(EncodeRequest.getDefaultInstance()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "WINDOW_TOO_LONG", () -> encoder.encode(good.get()
                .setWindows(0, window("refused", 0, windows(STORY.repeat(3), 121).getFirst(), new int[0])).build()));
        assertRefused(Status.Code.FAILED_PRECONDITION, "WRONG_MODEL", () -> encoder.encode(good.get()
                .setWindows(0, window("refused", 0, tokens, new int[0]).toBuilder().setModelFingerprint("abc")).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_TOKEN", () -> encoder.encode(good.get()
                .setWindows(0, window("refused", 0, new int[] {1, 2, 1_000_000}, new int[0])).build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "EMPTY_WINDOW", () -> encoder.encode(good.get()
                .setWindows(0, Window.newBuilder().setDocumentId("refused")).build()));
        EncodeRequest.Builder many = good.get();
        for (int i = 1; i < 9; i++) many.addWindows(window("refused", i, tokens, new int[0]));
        assertRefused(Status.Code.INVALID_ARGUMENT, "TOO_MANY_WINDOWS", () -> encoder.encode(many.build()));
        assertRefused(Status.Code.INVALID_ARGUMENT, "BAD_POSITIONS", () -> encoder.encode(good.get()
                .setPositions(StrategySpec.newBuilder().setRope("no-such-rope")).build()));

        // Every slot taken (as by long encodes): refused at once, not queued; served again once a slot is free.
        int taken = slots.drain();
        try {
            assertEquals(2, taken, "pcw.limits.max-concurrent-encodes in the test profile");
            assertRefused(Status.Code.RESOURCE_EXHAUSTED, "BUSY", () -> encoder.encode(good.get().build()));
        } finally {
            slots.release(taken);
        }
        assertEquals(2, encoder.encode(good.get().build()).getSegmentsCount());
    }

    @Test
    void encodeUnderARescaledPositionEncodingMatchesTheRuntime() {
        int[] prefix = prefix("Read.");
        int[] tokens = windows(STORY, 60).get(1);
        PositionEncoding linear = RopeSettings.defaults().with("linear", 2f).positions(model.config().rope(), model.config().contextLength());
        EncodeResponse r = encoder.encode(EncodeRequest.newBuilder()
                .addAllPrefixTokens(Arrays.stream(prefix).boxed().toList())
                .addWindows(window("rope-doc", 3, tokens, new int[0]))
                .setPositions(StrategySpec.newBuilder().setRope("linear").setRopeScale(2f)).build());
        SegmentLocation l = r.getSegments(1);
        assertEquals(linear.describe(), l.getPositionEncoding());
        assertNotEquals(PositionEncoding.of(model).describe(), l.getPositionEncoding());
        assertEquals("rope-doc", l.getDocumentId());
        assertEquals(3, l.getWindowIndex());
        Encoder reference = new Encoder(model, linear);
        KvSegment expected = reference.encode(tokens, prefix.length, reference.encode(prefix, 0));
        assertEquals(expected.id(), l.getSegmentId());
        assertArrayEquals(bytes(expected), fetch(l.getSegmentId()));
        assertNotEquals(new Encoder(model).id(tokens, prefix.length, dev.pcwmesh.runtime.context.ContextPlan.builder(model, PositionEncoding.of(model))
                .nextPosition(prefix.length).place(new Encoder(model).encode(prefix, 0), 0, dev.pcwmesh.runtime.context.ContextPlan.Role.PREFIX).build()),
                l.getSegmentId(), "another position encoding is another segment");
    }

    @Test
    void theStoreSpillsToDiskServesFromItAndSurvivesARestart() {
        int[] prefix = prefix("Spill.");
        List<int[]> windows = windows(STORY.repeat(6), 110);
        assertTrue(windows.size() >= 6);
        EncodeRequest.Builder req = EncodeRequest.newBuilder().addAllPrefixTokens(Arrays.stream(prefix).boxed().toList());
        for (int i = 0; i < 6; i++) req.addWindows(window("spill-doc", i, windows.get(i), new int[0]));
        EncodeResponse r = encoder.encode(req.build());
        String first = r.getSegments(1).getSegmentId();
        long total = r.getSegmentsList().stream().mapToLong(SegmentLocation::getByteSize).sum();
        assertTrue(total > 200_000, "more than the 200 kB of memory in the test profile: " + total);
        assertFalse(store.inMemory(first), "the least recently used segment left memory");
        assertTrue(store.onDisk(first));
        Encoder reference = new Encoder(model);
        byte[] expected = bytes(reference.encode(windows.getFirst(), prefix.length, reference.encode(prefix, 0)));
        assertArrayEquals(expected, fetch(first), "served from disk");
        assertTrue(store.inMemory(first), "and back in memory");
        // A new store over the same directory (a restarted encoder) serves it too.
        SegmentStore restarted = new SegmentStore(KafkaAndModelResource.storeDir(), 0, Long.MAX_VALUE);
        assertArrayEquals(expected, restarted.get(first));
    }

    @Test
    void healthAndMetrics() throws Exception {
        encoder.encode(EncodeRequest.newBuilder().addWindows(window("metrics-doc", 0, windows(STORY, 20).getFirst(), new int[0])).build());
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"pcw-encoder\"") && ready.body().contains("reachable"), ready.body());
        HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/live")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, live.statusCode(), live.body());
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String m : List.of("pcw_encoder_windows_encoded_total", "pcw_encoder_tokens_encoded_total", "pcw_encoder_encode_seconds_count",
                "pcw_encoder_store_bytes{tier=\"memory\"", "pcw_encoder_store_bytes{tier=\"disk\"", "pcw_encoder_store_hits_total",
                "pcw_encoder_store_misses_total", "pcw_encoder_served_bytes_total", "pcw_encoder_segments_already_stored_total")) {
            assertTrue(metrics.contains(m), m + " in /q/metrics");
        }
    }


}
