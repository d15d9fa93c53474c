package dev.pcwmesh.encoder;

import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.proto.v1.StrategySpec;
import dev.pcwmesh.runtime.context.Encoder;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.kv.KvSegmentCodec;
import dev.pcwmesh.runtime.kv.SegmentIds;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.service.Rejected;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The model and what the service does with it: checks a window against the model and the limits,
 * computes the content id of its segment <em>before</em> encoding (so a window delivered twice, or
 * asked for by two callers at once, is encoded once), encodes the shared prefix and then the window
 * after it at position {@code prefix length}, and keeps the serialized segment (KvSegmentCodec, f16)
 * in the {@link SegmentStore}. Both the Kafka consumer and the gRPC Encode call come here.
 *
 * <p>The runtime's {@link Encoder} is not thread-safe, so every worker thread has its own per position
 * encoding; the model's weights are shared. A window is always encoded after the prefix's
 * <em>float</em> keys and values (encoded again when not cached, never decoded from the store's f16
 * bytes), so a segment's bytes depend on its content id alone, whichever encoder made it.
 */
@Startup
@ApplicationScoped
public class WindowEncoder {
    private static final Logger LOG = Logger.getLogger(WindowEncoder.class);
    static final KvSegmentCodec.Payload PAYLOAD = KvSegmentCodec.Payload.F16;
    private static final int PREFIXES_KEPT = 16;

    private final Model model;
    private final SegmentStore store;
    private final EncoderConfig.Limits limits;
    private final PositionEncoding fileEncoding;
    private final String address;
    private final ThreadLocal<Map<String, Encoder>> encoders = ThreadLocal.withInitial(HashMap::new);
    /** Prefix segments as floats, by id: every window of a document is encoded after the same one. */
    private final LinkedHashMap<String, KvSegment> prefixes = new LinkedHashMap<>(16, 0.75f, true);
    /** Segments being encoded now, by id: a second caller waits for the first instead of encoding again. */
    private final ConcurrentHashMap<String, CompletableFuture<Stored>> inFlight = new ConcurrentHashMap<>();
    private final Counter windowsEncoded;
    private final Counter prefixesEncoded;
    private final Counter tokensEncoded;
    private final Counter alreadyStored;
    private final Timer encodeTime;

    /** A segment in the store: its id, tokens and serialized size; {@code encoded} when this call encoded it. */
    public record Stored(String id, int tokenCount, long byteSize, boolean encoded) {}

    public WindowEncoder(EncoderConfig config, SegmentStore store, MeterRegistry registry) {
        if (!Files.isRegularFile(config.model())) {
            throw new IllegalStateException("pcw.model: no such GGUF file: " + config.model().toAbsolutePath());
        }
        this.model = Model.load(config.model(), config.backend());
        this.store = store;
        this.limits = config.limits();
        this.fileEncoding = PositionEncoding.of(model);
        this.address = config.encoder().advertisedAddress().orElseGet(WindowEncoder::defaultAddress);
        this.windowsEncoded = Counter.builder("pcw.encoder.windows.encoded").description("Windows run through the model").register(registry);
        this.prefixesEncoded = Counter.builder("pcw.encoder.prefixes.encoded").description("Shared prefixes run through the model").register(registry);
        this.tokensEncoded = Counter.builder("pcw.encoder.tokens.encoded").description("Tokens run through the model (windows and prefixes)").register(registry);
        this.alreadyStored = Counter.builder("pcw.encoder.segments.already.stored")
                .description("Windows and prefixes not encoded because the store held their segment (duplicate deliveries)").register(registry);
        this.encodeTime = Timer.builder("pcw.encoder.encode").description("Time to encode one window or prefix").register(registry);
        LOG.infof("model %s loaded on %s (fingerprint %s, context %d, positions %s); segments advertised at %s",
                model.name(), model.backend().label(), model.fingerprint().substring(0, 16), model.config().contextLength(),
                fileEncoding.describe(), address);
    }

    /** localhost and the port HTTP and gRPC share (the test port under tests). */
    private static String defaultAddress() {
        var config = ConfigProvider.getConfig();
        String key = LaunchMode.current() == LaunchMode.TEST ? "quarkus.http.test-port" : "quarkus.http.port";
        return "localhost:" + config.getOptionalValue(key, Integer.class).orElse(LaunchMode.current() == LaunchMode.TEST ? 8081 : 8080);
    }

    public Model model() { return model; }

    public String fingerprint() { return model.fingerprint(); }

    public PositionEncoding fileEncoding() { return fileEncoding; }

    /** host:port written into the locations of this instance's segments. */
    public String address() { return address; }

    /**
     * The position encoding a request asks for: the model file's when {@code rope} is empty or "file",
     * else the named rescaling (parsed like {@code pcw qa --rope}) with {@code rope_scale} and
     * {@code rerope_window}; INVALID_ARGUMENT (BAD_POSITIONS) for an unknown name or bad parameters.
     */
    public PositionEncoding positions(StrategySpec spec) {
        RopeSettings s = RopeSettings.named(spec.getRope(), spec.getRopeScale(), spec.getReropeWindow());
        if (s.name().equals("file")) return fileEncoding;
        try {
            return s.positions(model.config().rope(), model.config().contextLength());
        } catch (IllegalArgumentException e) {
            throw Rejected.invalid("BAD_POSITIONS", e.getMessage());
        }
    }

    /**
     * Refuses what cannot be encoded: a window cut by another model (FAILED_PRECONDITION WRONG_MODEL;
     * an empty fingerprint passes only when {@code requireFingerprint} is false), no tokens (EMPTY_WINDOW),
     * token ids outside the vocabulary (BAD_TOKEN), more than {@code pcw.limits.max-window-tokens} tokens or
     * more than the model's context after the prefix (WINDOW_TOO_LONG).
     */
    public void check(String fingerprint, boolean requireFingerprint, int[] prefix, int[] tokens, String what) {
        if (!fingerprint.equals(model.fingerprint()) && (requireFingerprint || !fingerprint.isEmpty())) {
            throw new Rejected(Status.Code.FAILED_PRECONDITION, "WRONG_MODEL", what + " was cut by model "
                    + (fingerprint.isEmpty() ? "(none named)" : fingerprint) + ", this encoder runs " + model.fingerprint());
        }
        if (tokens.length == 0) throw Rejected.invalid("EMPTY_WINDOW", what + " has no tokens");
        int context = model.config().contextLength();
        if (prefix.length >= context) {
            throw Rejected.invalid("PREFIX_TOO_LONG", "the prefix of " + prefix.length + " tokens leaves no room in the model's context of " + context);
        }
        int room = Math.min(limits.maxWindowTokens(), context - prefix.length);
        if (tokens.length > room) {
            throw Rejected.invalid("WINDOW_TOO_LONG", what + " has " + tokens.length + " tokens; at most " + room
                    + " fit (pcw.limits.max-window-tokens " + limits.maxWindowTokens() + ", model context " + context
                    + " less a prefix of " + prefix.length + ")");
        }
        checkTokens(prefix, "the prefix");
        checkTokens(tokens, what);
    }

    private void checkTokens(int[] tokens, String what) {
        int vocab = model.config().vocabSize();
        for (int t : tokens) {
            if (t < 0 || t >= vocab) throw Rejected.invalid("BAD_TOKEN", what + " holds token id " + t + ", outside the vocabulary of " + vocab);
        }
    }

    /** The content id of the prefix's segment, or null for an empty prefix (windows then start at 0 and attend to nothing). */
    public String prefixId(int[] prefix, PositionEncoding positions) {
        return prefix.length == 0 ? null : SegmentIds.of(model.fingerprint(), positions.describe(), null, 0, prefix);
    }

    /** The id of a window's segment after {@code prefix}: what {@link Encoder#encode(int[], int, KvSegment)} will name it. */
    public String windowId(int[] prefix, int[] tokens, PositionEncoding positions) {
        return SegmentIds.of(model.fingerprint(), positions.describe(), prefixId(prefix, positions), prefix.length, tokens);
    }

    /** Makes sure the store holds the prefix's segment (encoding it if not); call only for a non-empty prefix. */
    public Stored storePrefix(int[] prefix, PositionEncoding positions) {
        String id = prefixId(prefix, positions);
        return once(id, prefix.length, () -> prefixSegment(id, prefix, positions), prefixesEncoded);
    }

    /** Makes sure the store holds the segment of {@code tokens} encoded after {@code prefix} (checked by {@link #check}). */
    public Stored storeWindow(int[] prefix, int[] tokens, PositionEncoding positions) {
        String id = windowId(prefix, tokens, positions);
        return once(id, tokens.length, () -> {
            KvSegment before = prefix.length == 0 ? null : prefixSegment(prefixId(prefix, positions), prefix, positions);
            return encodeTimed(tokens, prefix.length, before, positions);
        }, windowsEncoded);
    }

    /** The location of a stored segment served by this instance. */
    public SegmentLocation location(Stored s, String documentId, int windowIndex, PositionEncoding positions) {
        return SegmentLocation.newBuilder()
                .setSegmentId(s.id())
                .setDocumentId(documentId)
                .setWindowIndex(windowIndex)
                .setTokenCount(s.tokenCount())
                .setEncoderAddress(address)
                .setByteSize(s.byteSize())
                .setPositionEncoding(positions.describe())
                .build();
    }

    /** Encodes and stores the segment {@code id} unless the store holds it or another thread is encoding it. */
    private Stored once(String id, int tokens, java.util.function.Supplier<KvSegment> encode, Counter encodedCounter) {
        CompletableFuture<Stored> mine = new CompletableFuture<>();
        CompletableFuture<Stored> other = inFlight.putIfAbsent(id, mine);
        if (other != null) {
            try {
                Stored s = other.join();
                alreadyStored.increment();
                return new Stored(s.id(), s.tokenCount(), s.byteSize(), false);
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw e;
            }
        }
        try {
            Stored result;
            long held = store.size(id);
            if (held >= 0) {
                alreadyStored.increment();
                result = new Stored(id, tokens, held, false);
            } else {
                KvSegment s = encode.get();
                if (!s.id().equals(id)) {
                    throw new IllegalStateException("the runtime named the segment " + s.id() + ", its id computed ahead was " + id);
                }
                byte[] bytes = KvSegmentCodec.toBytes(s, PAYLOAD);
                store.put(id, bytes);
                encodedCounter.increment();
                result = new Stored(id, tokens, bytes.length, true);
            }
            mine.complete(result);
            return result;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(id, mine);
        }
    }

    /** The prefix as floats: cached, or encoded again (cheap: a prefix is short) so that windows never attend to f16-rounded keys. */
    private KvSegment prefixSegment(String id, int[] prefix, PositionEncoding positions) {
        synchronized (prefixes) {
            KvSegment known = prefixes.get(id);
            if (known != null) return known;
        }
        KvSegment s = encodeTimed(prefix, 0, null, positions);
        synchronized (prefixes) {
            prefixes.put(id, s);
            if (prefixes.size() > PREFIXES_KEPT) prefixes.remove(prefixes.keySet().iterator().next());
        }
        return s;
    }

    private KvSegment encodeTimed(int[] tokens, int start, KvSegment prefix, PositionEncoding positions) {
        Encoder encoder = encoders.get().computeIfAbsent(positions.describe(), d -> new Encoder(model, positions));
        long t0 = System.nanoTime();
        KvSegment s = encoder.encode(tokens, start, prefix);
        encodeTime.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
        tokensEncoded.increment(tokens.length);
        return s;
    }

    /** Windows run through the model so far (for tests and logs). */
    public long windowsEncoded() { return (long) windowsEncoded.count(); }

    /** Windows and prefixes found already stored so far. */
    public long alreadyStoredCount() { return (long) alreadyStored.count(); }

    @PreDestroy
    void close() {
        model.close();
    }
}
