package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import dev.pcwmesh.proto.v1.RankRequest;
import dev.pcwmesh.proto.v1.RankResponse;
import dev.pcwmesh.proto.v1.RankedWindow;
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
import dev.pcwmesh.runtime.context.WindowSelection;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.ChatMessage;
import dev.pcwmesh.runtime.tokenizer.ChatTemplate;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import dev.pcwmesh.runtime.tokenizer.TokenizerException;
import dev.pcwmesh.service.Rejected;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Answers one question or conversation, for gRPC, Kafka and the OpenAI endpoint alike: checks the
 * request against the limits, waits (bounded) until the documents' windows are known and encoded,
 * builds the plan of the requested strategy from the mesh's segments, and generates, handing each
 * completed piece of text to the caller. Without documents a conversation is a plain chat with the
 * model. Also ranks a document's windows for a query ({@link #rank}). At most
 * {@code pcw.limits.max-concurrent-asks} asks and ranks run at once; a cancelled one stops at its
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
        boolean plainChat = request.getDocumentIdsCount() == 0 && request.getMessagesCount() > 0;
        int[] question = promptTokens(request, tokenizer, !plainChat);
        int maxTokens = request.getSampling().getMaxTokens() <= 0 ? config.limits().maxNewTokens()
                : Math.min(request.getSampling().getMaxTokens(), config.limits().maxNewTokens());
        SamplingParams sampling = sampling(request.getSampling(), maxTokens);
        MeshSegments segments = new MeshSegments(model, cache, fetcher, view, config.segments().encodeLocally(), cancelled);

        ContextPlan plan;
        int windowsTotal = 0;
        if (plainChat) {
            if (request.hasStrategy() && !request.getStrategy().equals(StrategySpec.getDefaultInstance())) {
                throw Rejected.invalid("STRATEGY_WITHOUT_DOCUMENTS", "a strategy places documents; this request names none");
            }
            plan = ContextPlan.empty(model, 0);
        } else {
            int trainedWindow = model.config().contextLength();
            Strategy strategy = strategy(request.getStrategy(), model, trainedWindow);
            PositionEncoding positions = positions(request.getStrategy(), model, trainedWindow);
            boolean fileEncoding = positions.equals(PositionEncoding.of(model));
            Documents documents = documents(request.getDocumentIdsList(), fileEncoding, deadlineNanos, cancelled);
            windowsTotal = documents.windows().size();
            plan = strategy.plan(documents.document(), question, new PlanRequest(model, positions, segments, trainedWindow, maxTokens));
        }
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
                .setWindowsTotal(windowsTotal)
                .setContextTokens(plan.contextTokens())
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

    /**
     * Scores the windows of the request's documents by the attention the query gives them when it
     * follows all of them in parallel ({@link WindowSelection#scores}), in the caller's slot, and
     * returns the best first with their text (the window's tokens decoded).
     */
    public RankResponse rank(RankRequest request, BooleanSupplier cancelled, long deadlineNanos) throws InterruptedException {
        Model model = loaded.model();
        if (request.getQuery().isBlank()) throw Rejected.invalid("EMPTY_QUERY", "the query is empty");
        if (request.getMaxResults() < 0) throw Rejected.invalid("BAD_MAX_RESULTS", "max_results must be 0 (all) or more, got " + request.getMaxResults());
        int[] query = limited(model.tokenizer().encode(formatted(request.getQuestionFormat(), request.getQuery()), false, false));
        Documents documents = documents(request.getDocumentIdsList(), true, deadlineNanos, cancelled);
        int trainedWindow = model.config().contextLength();
        MeshSegments segments = new MeshSegments(model, cache, fetcher, view, config.segments().encodeLocally(), cancelled);
        double[] scores = new WindowSelection(1, Set.of(), null).scores(documents.document(), query,
                new PlanRequest(model, PositionEncoding.of(model), segments, trainedWindow, 0));
        int n = documents.windows().size();
        int limit = request.getMaxResults() == 0 ? n : Math.min(n, request.getMaxResults());
        RankResponse.Builder response = RankResponse.newBuilder().setWindowsTotal(n).setQueryTokens(query.length);
        IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -scores[i]).thenComparingInt(i -> i))
                .limit(limit)
                .forEach(i -> {
                    WindowRef w = documents.windows().get(i);
                    int[] tokens = documents.document().windows().get(i);
                    response.addWindows(RankedWindow.newBuilder().setDocumentId(w.documentId()).setWindowIndex(w.index())
                            .setScore(scores[i]).setText(model.tokenizer().decode(tokens)).setTokenCount(tokens.length));
                });
        return response.build();
    }

    /**
     * What follows the documents, tokenized without BOS (which the documents' prefix carries), or
     * with no documents the whole prompt from BOS; within {@code pcw.limits.max-question-tokens}.
     * A question goes through its format; a conversation through the model's chat template when its
     * file has one, else turn by turn through the question format.
     */
    private int[] promptTokens(AskRequest request, Tokenizer tokenizer, boolean afterDocuments) {
        if (request.getMessagesCount() == 0) {
            if (request.getQuestion().isBlank()) throw Rejected.invalid("EMPTY_QUESTION", "the question is empty");
            return limited(tokenizer.encode(formatted(request.getQuestionFormat(), request.getQuestion()), false, false));
        }
        if (!request.getQuestion().isEmpty()) {
            throw Rejected.invalid("QUESTION_AND_MESSAGES", "give a question or messages, not both");
        }
        List<ChatMessage> turns = turns(request.getMessagesList());
        Optional<ChatTemplate> template = loaded.chatTemplate();
        if (template.isEmpty()) {
            StringBuilder text = new StringBuilder();
            for (ChatMessage m : turns) {
                switch (m.role()) {
                    case "system" -> text.append(m.content()).append('\n');
                    case "user" -> text.append(formatted(request.getQuestionFormat(), m.content()));
                    default -> text.append(' ').append(m.content());
                }
            }
            return limited(tokenizer.encode(text.toString(), !afterDocuments, false));
        }
        String text;
        try {
            text = template.get().render(turns, true);
        } catch (TokenizerException e) {
            throw Rejected.invalid("BAD_MESSAGES", e.getMessage());
        }
        // Templates that write BOS themselves: after the documents it is already there, and alone it
        // must not be doubled.
        String bos = tokenizer.bos() >= 0 ? tokenizer.piece(tokenizer.bos()) : "";
        boolean writesBos = !bos.isEmpty() && text.startsWith(bos);
        if (writesBos && afterDocuments) text = text.substring(bos.length());
        return limited(tokenizer.encode(text, !afterDocuments && !writesBos, true));
    }

    /** The conversation's turns, checked: known roles, text, and a user turn last (the one answered). */
    private static List<ChatMessage> turns(List<ChatTurn> messages) {
        List<ChatMessage> turns = new ArrayList<>(messages.size());
        for (ChatTurn t : messages) {
            if (!Set.of("system", "user", "assistant").contains(t.getRole())) {
                throw Rejected.invalid("BAD_MESSAGES", "unknown role '" + t.getRole() + "'; one of system, user, assistant");
            }
            turns.add(new ChatMessage(t.getRole(), t.getContent()));
        }
        if (!turns.getLast().role().equals("user") || turns.getLast().content().isBlank()) {
            throw Rejected.invalid("BAD_MESSAGES", "the last message must be the user's, with text: it is what gets answered");
        }
        return turns;
    }

    /** {@code text} in a question format ({@link #QUESTION_FORMAT} when empty), which must hold %s once. */
    private static String formatted(String format, String text) {
        if (format.isEmpty()) format = QUESTION_FORMAT;
        int at = format.indexOf("%s");
        if (at < 0 || format.indexOf("%s", at + 2) >= 0) {
            throw Rejected.invalid("BAD_QUESTION_FORMAT", "question_format must contain %s exactly once, got '" + format + "'");
        }
        return format.substring(0, at) + text + format.substring(at + 2);
    }

    private int[] limited(int[] ids) {
        int max = config.limits().maxQuestionTokens();
        if (ids.length > max) {
            throw Rejected.invalid("QUESTION_TOO_LONG", "the question has " + ids.length + " tokens, more than pcw.limits.max-question-tokens " + max);
        }
        return ids;
    }

    /** A window of the documents of an ask, by document and index. */
    private record WindowRef(String documentId, int index) { }

    /** The documents of an ask as one {@link Document}, and which window each of its windows is. */
    private record Documents(Document document, List<WindowRef> windows) { }

    /**
     * The documents' windows one after another after their shared prefix, once the mesh knows them
     * all (and, under the file's position encoding, once the encoders have published their
     * segments, waiting at most {@code pcw.segments.encode-wait}).
     */
    private Documents documents(List<String> ids, boolean waitForEncoders, long deadlineNanos, BooleanSupplier cancelled) throws InterruptedException {
        if (ids.isEmpty()) throw Rejected.invalid("NO_DOCUMENTS", "name at least one document id (or send messages alone for a plain chat)");
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
        List<WindowRef> refs = new ArrayList<>();
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
            for (int index : d.windows().keySet()) refs.add(new WindowRef(id, index));
            if (windows.size() > config.limits().maxWindowsPerAsk()) {
                throw new Rejected(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_WINDOWS", "the documents have more than pcw.limits.max-windows-per-ask "
                        + config.limits().maxWindowsPerAsk() + " windows");
            }
        }
        return new Documents(new Document(prefix, windows), refs);
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
