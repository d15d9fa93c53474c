package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Document;
import dev.pcwmesh.runtime.context.PlanCost;
import dev.pcwmesh.runtime.context.PlanRequest;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.runtime.context.RopeSettings;
import dev.pcwmesh.runtime.context.Strategy;
import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import dev.pcwmesh.service.Rejected;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Answers one question, for gRPC and Kafka alike: checks the request against the limits, waits
 * (bounded) until the documents' windows are known and encoded, builds the plan of the requested
 * strategy from the mesh's segments, and generates, handing each completed piece of text to the
 * caller. At most {@code pcw.limits.max-concurrent-asks} run at once; a cancelled ask stops at its
 * next segment or token and frees its slot.
 */
@ApplicationScoped
public class Asks {
    /** The default question format, as {@code pcw qa} has it. */
    public static final String QUESTION_FORMAT = "\n\nQuestion: %s\nAnswer:";

    /** The caller went away (gRPC cancel or deadline); the ask stops where it is. */
    static final class Cancelled extends RuntimeException {
        Cancelled() { super("cancelled", null, false, false); }
    }

    private final LoadedModel loaded;
    private final MeshView view;
    private final SegmentCache cache;
    private final SegmentFetcher fetcher;
    private final GeneratorConfig config;
    private final Semaphore slots;
    private final Timer timeToFirstToken;
    private final Timer interToken;
    private final Counter tokensIn;
    private final Counter tokensOut;
    private final Counter cacheHits;
    private final Counter segmentsFetched;
    private final Counter bytesFetched;
    private final Counter segmentsEncodedHere;
    private final DistributionSummary windowsUsed;

    public Asks(LoadedModel loaded, MeshView view, SegmentCache cache, SegmentFetcher fetcher, GeneratorConfig config, MeterRegistry registry) {
        this.loaded = loaded;
        this.view = view;
        this.cache = cache;
        this.fetcher = fetcher;
        this.config = config;
        this.slots = new Semaphore(config.limits().maxConcurrentAsks());
        this.timeToFirstToken = Timer.builder("pcw.generator.time.to.first.token").publishPercentileHistogram().register(registry);
        this.interToken = Timer.builder("pcw.generator.inter.token.latency").publishPercentileHistogram().register(registry);
        this.tokensIn = registry.counter("pcw.generator.tokens.in");
        this.tokensOut = registry.counter("pcw.generator.tokens.out");
        this.cacheHits = registry.counter("pcw.generator.segment.cache.hits");
        this.segmentsFetched = registry.counter("pcw.generator.segments.fetched");
        this.bytesFetched = registry.counter("pcw.generator.segment.bytes.fetched");
        this.segmentsEncodedHere = registry.counter("pcw.generator.segments.encoded.here");
        this.windowsUsed = registry.summary("pcw.generator.windows.used");
        registry.gauge("pcw.generator.asks.active", slots, s -> config.limits().maxConcurrentAsks() - s.availablePermits());
    }

    /**
     * Takes a slot for one ask, or refuses with RESOURCE_EXHAUSTED at once when every slot is taken.
     * The caller must {@link #release()} it.
     */
    public void acquire() {
        if (!slots.tryAcquire()) {
            throw new Rejected(Status.Code.RESOURCE_EXHAUSTED, "BUSY", config.limits().maxConcurrentAsks()
                    + " asks are being answered (pcw.limits.max-concurrent-asks); retry later");
        }
    }

    /** Takes a slot, waiting for one (Kafka questions queue rather than fail). */
    public void acquireWaiting() throws InterruptedException {
        slots.acquire();
    }

    public void release() {
        slots.release();
    }

    /** Slots free now. */
    public int freeSlots() { return slots.availablePermits(); }

    /**
     * Answers {@code request} in the caller's slot, handing text to {@code text} as it completes,
     * and returns the figures. Throws {@link Rejected} for a request it refuses, {@link Cancelled}
     * when {@code cancelled} turns true.
     *
     * @param deadlineNanos System.nanoTime by which the caller wants the answer (Long.MAX_VALUE: none)
     */
    public AnswerFigures answer(AskRequest request, Consumer<String> text, BooleanSupplier cancelled, long deadlineNanos) throws InterruptedException {
        long start = System.nanoTime();
        Model model = loaded.model();
        Tokenizer tokenizer = model.tokenizer();
        int[] question = questionTokens(request, tokenizer);
        int maxTokens = request.getSampling().getMaxTokens() <= 0 ? config.limits().maxNewTokens()
                : Math.min(request.getSampling().getMaxTokens(), config.limits().maxNewTokens());
        SamplingParams sampling = sampling(request.getSampling(), maxTokens);
        int trainedWindow = model.config().contextLength();
        Strategy strategy = strategy(request.getStrategy(), model, trainedWindow);
        PositionEncoding positions = positions(request.getStrategy(), model, trainedWindow);
        boolean fileEncoding = positions.equals(PositionEncoding.of(model));

        Document document = document(request.getDocumentIdsList(), fileEncoding, deadlineNanos, cancelled);

        MeshSegments segments = new MeshSegments(model, cache, fetcher, view, config.segments().encodeLocally(), cancelled);
        ContextPlan plan = strategy.plan(document, question, new PlanRequest(model, positions, segments, trainedWindow, maxTokens));
        long[] lastToken = {0};
        long[] firstToken = {0};
        GenerationResult result = new Generator(model, tokenizer).generate(plan, question, sampling, (token, piece) -> {
            if (cancelled.getAsBoolean()) throw new Cancelled();
            long now = System.nanoTime();
            if (token >= 0) {
                if (firstToken[0] == 0) firstToken[0] = now;
                else interToken.record(now - lastToken[0], TimeUnit.NANOSECONDS);
                lastToken[0] = now;
            }
            if (!piece.isEmpty()) text.accept(piece);
        });
        long ttft = (firstToken[0] == 0 ? System.nanoTime() : firstToken[0]) - start;

        PlanCost cost = plan.cost();
        timeToFirstToken.record(ttft, TimeUnit.NANOSECONDS);
        tokensIn.increment(question.length);
        tokensOut.increment(result.tokens().length);
        cacheHits.increment(segments.cacheHits);
        segmentsFetched.increment(segments.fetched);
        bytesFetched.increment(segments.bytesFetched);
        segmentsEncodedHere.increment(segments.encodedHere);
        windowsUsed.record(cost.windows());
        return AnswerFigures.newBuilder()
                .setWindowsUsed(cost.windows())
                .setWindowsTotal(document.windows().size())
                .setTokensIn(question.length)
                .setTokensOut(result.tokens().length)
                .setTimeToFirstTokenMs(TimeUnit.NANOSECONDS.toMillis(ttft))
                .setInterTokenMs(result.tokens().length <= 1 ? 0 : result.decodeNanos() / 1e6 / (result.tokens().length - 1))
                .setSegmentCacheHits(segments.cacheHits)
                .setSegmentsFetched(segments.fetched)
                .setSegmentsEncodedHere(segments.encodedHere)
                .setSegmentBytesFetched(segments.bytesFetched)
                .setFetchMs(TimeUnit.NANOSECONDS.toMillis(segments.fetchNanos))
                .setKvBytes(cost.kvBytes())
                .setStopReason(result.stopReason().name().toLowerCase(java.util.Locale.ROOT))
                .setNote(plan.note())
                .build();
    }

    /** The question in its format, tokenized (no BOS: it follows the document), within the limit. */
    private int[] questionTokens(AskRequest request, Tokenizer tokenizer) {
        if (request.getQuestion().isBlank()) throw Rejected.invalid("EMPTY_QUESTION", "the question is empty");
        String format = request.getQuestionFormat().isEmpty() ? QUESTION_FORMAT : request.getQuestionFormat();
        int at = format.indexOf("%s");
        if (at < 0 || format.indexOf("%s", at + 2) >= 0) {
            throw Rejected.invalid("BAD_QUESTION_FORMAT", "question_format must contain %s exactly once, got '" + format + "'");
        }
        String text = format.substring(0, at) + request.getQuestion() + format.substring(at + 2);
        int max = config.limits().maxQuestionTokens();
        int[] ids = tokenizer.encode(text, false, false);
        if (ids.length > max) {
            throw Rejected.invalid("QUESTION_TOO_LONG", "the question has " + ids.length + " tokens, more than pcw.limits.max-question-tokens " + max);
        }
        return ids;
    }

    /**
     * The documents' windows one after another after their shared prefix, once the mesh knows them
     * all (and, under the file's position encoding, once the encoders have published their
     * segments, waiting at most {@code pcw.segments.encode-wait}).
     */
    private Document document(List<String> ids, boolean waitForEncoders, long deadlineNanos, BooleanSupplier cancelled) throws InterruptedException {
        if (ids.isEmpty()) throw Rejected.invalid("NO_DOCUMENTS", "name at least one document id");
        if (ids.size() > config.limits().maxDocumentsPerAsk()) {
            throw Rejected.invalid("TOO_MANY_DOCUMENTS", ids.size() + " documents, more than pcw.limits.max-documents-per-ask "
                    + config.limits().maxDocumentsPerAsk());
        }
        if (!view.awaitCaughtUp(deadlineNanos)) {
            throw new Rejected(Status.Code.UNAVAILABLE, "VIEW_NOT_READY", "the generator has not read the mesh's topics yet: " + view.problem());
        }
        long windowsDeadline = Math.min(deadlineNanos, System.nanoTime() + config.limits().documentWait().toNanos());
        long encodeDeadline = Math.min(deadlineNanos, System.nanoTime() + config.segments().encodeWait().toNanos());
        int[] prefix = null;
        List<int[]> windows = new ArrayList<>();
        for (String id : ids) {
            MeshView.DocumentState d = awaitDocument(id, false, windowsDeadline, cancelled);
            if (d == null && view.awaitManifestsRead(Math.min(windowsDeadline, System.nanoTime() + 10_000_000_000L))) {
                d = awaitDocument(id, false, windowsDeadline, cancelled);   // ingested a moment ago: the view has read it now
            }
            if (d != null && d.complete() && waitForEncoders) d = awaitDocument(id, true, encodeDeadline, cancelled);
            if (d == null) throw new Rejected(Status.Code.NOT_FOUND, "UNKNOWN_DOCUMENT", "no document '" + id + "'");
            if (!d.manifest().getModelFingerprint().equals(loaded.model().fingerprint())) {
                throw new Rejected(Status.Code.FAILED_PRECONDITION, "MODEL_MISMATCH", "document '" + id + "' was cut by model "
                        + d.manifest().getModelFingerprint() + ", this generator runs " + loaded.model().fingerprint());
            }
            if (!d.complete()) {
                throw new Rejected(Status.Code.DEADLINE_EXCEEDED, "WINDOWS_MISSING", "document '" + id + "': " + d.windows().size()
                        + " of " + d.manifest().getWindowCount() + " windows have arrived on the windows topic within pcw.limits.document-wait "
                        + config.limits().documentWait() + " or the call's deadline");
            }
            if (waitForEncoders && !d.encoded() && !config.segments().encodeLocally()) {
                throw new Rejected(Status.Code.DEADLINE_EXCEEDED, "NOT_ENCODED", "document '" + id + "': " + d.windowsEncoded() + " of "
                        + d.manifest().getWindowCount() + " windows encoded within pcw.segments.encode-wait "
                        + config.segments().encodeWait() + " or the call's deadline");
            }
            int[] p = d.manifest().getPrefixTokensList().stream().mapToInt(Integer::intValue).toArray();
            if (prefix != null && !Arrays.equals(prefix, p)) {
                throw Rejected.invalid("PREFIX_MISMATCH", "documents asked together must share their prefix (instruction); '" + id + "' has another");
            }
            prefix = p;
            windows.addAll(d.windows().values());
            if (windows.size() > config.limits().maxWindowsPerAsk()) {
                throw new Rejected(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_WINDOWS", "the documents have more than pcw.limits.max-windows-per-ask "
                        + config.limits().maxWindowsPerAsk() + " windows");
            }
        }
        return new Document(prefix, windows);
    }

    /** {@link MeshView#await}, in slices short enough to notice a cancelled ask within a fifth of a second. */
    private MeshView.DocumentState awaitDocument(String id, boolean encoded, long deadlineNanos, BooleanSupplier cancelled) throws InterruptedException {
        while (true) {
            if (cancelled.getAsBoolean()) throw new Cancelled();
            long slice = Math.min(deadlineNanos, System.nanoTime() + 200_000_000L);
            MeshView.DocumentState d = view.await(id, encoded, slice);
            if (d == null || (d.complete() && (!encoded || d.encoded())) || System.nanoTime() - deadlineNanos >= 0) return d;
        }
    }

    private static Strategy strategy(StrategySpec spec, Model model, int trainedWindow) {
        StrategySettings d = StrategySettings.defaults();
        StrategySettings s = new StrategySettings(
                spec.getTopK() > 0 ? spec.getTopK() : null,
                spec.getBlockSize() > 0 ? spec.getBlockSize() : d.blockSize(),
                d.layers(),
                spec.getApeTemperature() > 0 ? spec.getApeTemperature() : d.apeTemperature(),
                spec.getApeScale() > 0 ? spec.getApeScale() : d.apeScale(),
                spec.getSinks() > 0 ? spec.getSinks() : d.sinks(),
                spec.getLocal() > 0 ? spec.getLocal() : null,
                spec.getChunk() > 0 ? spec.getChunk() : d.chunk(),
                d.maxLength());
        try {
            return s.create(spec.getName().isEmpty() ? "parallel" : spec.getName(), model, trainedWindow, null);
        } catch (IllegalArgumentException e) {
            throw Rejected.invalid("BAD_STRATEGY", e.getMessage());
        }
    }

    private static PositionEncoding positions(StrategySpec spec, Model model, int trainedWindow) {
        try {
            return RopeSettings.named(spec.getRope(), spec.getRopeScale(), spec.getReropeWindow()).positions(model.config().rope(), trainedWindow);
        } catch (IllegalArgumentException e) {
            throw Rejected.invalid("BAD_ROPE", e.getMessage());
        }
    }

    private static SamplingParams sampling(Sampling s, int maxTokens) {
        SamplingParams p = SamplingParams.greedy(maxTokens);
        try {
            if (s.getTemperature() > 0) {
                p = SamplingParams.defaults(maxTokens, s.getSeed() != 0 ? s.getSeed() : ThreadLocalRandom.current().nextLong())
                        .withTemperature(s.getTemperature());
                if (s.getTopK() > 0) p = p.withTopK(s.getTopK());
                if (s.getTopP() > 0) p = p.withTopP(s.getTopP());
                if (s.getMinP() > 0) p = p.withMinP(s.getMinP());
            }
            if (s.getRepetitionPenalty() > 0) p = p.withRepetitionPenalty(s.getRepetitionPenalty());
            if (s.getStopCount() > 0) p = p.withStopStrings(s.getStopList());
            return p;
        } catch (IllegalArgumentException e) {
            throw Rejected.invalid("BAD_SAMPLING", e.getMessage());
        }
    }
}
