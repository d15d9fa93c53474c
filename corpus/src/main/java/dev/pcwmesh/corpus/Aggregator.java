package dev.pcwmesh.corpus;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Joins related short documents into one long sequence. Documents of one domain and group (or, with
 * topical joining, ungrouped documents whose vocabularies are alike by MinHash over single words) wait
 * in a buffer; a buffer becomes a {@link Unit.Kind#AGGREGATE} when it holds {@code targetTokens} tokens,
 * its documents sorted by their order key ({@link NaturalOrder}: dates, section numbers; arrival order
 * among equals and for documents without one) and joined with {@code separator} tokens. At
 * {@link #flush()} the rest come out; a buffer of one document comes out as a {@link Unit.Kind#SHORT}
 * unit. Memory is bounded by {@code maxBufferedTokens}: beyond it the fullest buffer comes out early.
 *
 * @param <O> what the caller tracks per document (the Kafka stage: the record's offset)
 */
public final class Aggregator<O> {
    private record Part<O>(Document doc, int[] tokens, long arrival, O origin) {}

    private static final class Buffer<O> {
        final String key, domain, group;
        final long[] vocabulary;
        final List<Part<O>> parts = new ArrayList<>();
        int tokens;

        Buffer(String key, String domain, String group, long[] vocabulary) {
            this.key = key;
            this.domain = domain;
            this.group = group;
            this.vocabulary = vocabulary;
        }
    }

    private final int targetTokens;
    private final int[] separator;
    private final long maxBufferedTokens;
    private final MinHash vocabulary;
    private final double topicalMin;
    private final int maxTopicalBuffers;
    private final BiConsumer<Unit, List<O>> out;
    private final Map<String, Buffer<O>> buffers = new LinkedHashMap<>();
    private final Map<String, Integer> emittedPerKey = new java.util.HashMap<>();
    private long buffered;
    private long arrivals;
    private int topicalSerial;

    /**
     * @param topicalMin  the least estimated Jaccard similarity of two documents' word sets for them to be
     *                    topical neighbours; 0 or less turns topical joining off
     */
    public Aggregator(int targetTokens, int[] separator, long maxBufferedTokens, double topicalMin, long seed, BiConsumer<Unit, List<O>> out) {
        this.targetTokens = targetTokens;
        this.separator = separator.clone();
        this.maxBufferedTokens = maxBufferedTokens;
        this.topicalMin = topicalMin;
        this.vocabulary = topicalMin > 0 ? new MinHash(64, 1, seed) : null;
        this.maxTopicalBuffers = 64;
        this.out = out;
    }

    /** Adds an aggregable document of {@code domain} with its content tokens. */
    public void add(Document doc, String domain, int[] tokens, O origin) {
        Buffer<O> buffer;
        if (doc.group() != null && !doc.group().isBlank()) {
            String key = domain + '\u0000' + doc.group();
            buffer = buffers.computeIfAbsent(key, k -> new Buffer<>(k, domain, doc.group(), null));
        } else if (vocabulary != null) {
            buffer = topicalNeighbour(domain, vocabulary.signature(doc.text()));
        } else {
            throw new IllegalArgumentException("document " + doc.id() + " has no group and topical joining is off");
        }
        buffer.parts.add(new Part<>(doc, tokens, arrivals++, origin));
        buffer.tokens += tokens.length + (buffer.parts.size() > 1 ? separator.length : 0);
        buffered += tokens.length;
        if (buffer.tokens >= targetTokens) emit(buffer);
        while (buffered > maxBufferedTokens && !buffers.isEmpty()) {
            emit(buffers.values().stream().max(Comparator.comparingInt(b -> b.tokens)).orElseThrow());
        }
    }

    /** Every waiting document, as units. */
    public void flush() {
        for (Buffer<O> b : new ArrayList<>(buffers.values())) emit(b);
    }

    public boolean isEmpty() { return buffers.isEmpty(); }

    private Buffer<O> topicalNeighbour(String domain, long[] signature) {
        Buffer<O> best = null;
        double bestSimilarity = topicalMin;
        int open = 0;
        Buffer<O> oldest = null;
        for (Buffer<O> b : buffers.values()) {
            if (b.vocabulary == null || !b.domain.equals(domain)) continue;
            open++;
            if (oldest == null) oldest = b;
            double s = MinHash.similarity(signature, b.vocabulary);
            if (s >= bestSimilarity) { bestSimilarity = s; best = b; }
        }
        if (best != null) return best;
        if (open >= maxTopicalBuffers) emit(oldest);
        String key = domain + "\u0000~topic-" + topicalSerial++;
        Buffer<O> b = new Buffer<>(key, domain, null, signature);
        buffers.put(key, b);
        return b;
    }

    private void emit(Buffer<O> b) {
        buffers.remove(b.key);
        List<Part<O>> parts = new ArrayList<>(b.parts);
        parts.sort(Comparator.<Part<O>, String>comparing(p -> p.doc().order(), Comparator.nullsLast(NaturalOrder.INSTANCE))
                .thenComparingLong(Part::arrival));
        int length = 0;
        for (Part<O> p : parts) length += p.tokens().length;
        length += separator.length * (parts.size() - 1);
        int[] tokens = new int[length];
        int at = 0;
        List<String> ids = new ArrayList<>();
        List<O> origins = new ArrayList<>();
        for (Part<O> p : parts) {
            if (at > 0) {
                System.arraycopy(separator, 0, tokens, at, separator.length);
                at += separator.length;
            }
            System.arraycopy(p.tokens(), 0, tokens, at, p.tokens().length);
            at += p.tokens().length;
            ids.add(p.doc().id());
            origins.add(p.origin());
            buffered -= p.tokens().length;
        }
        Unit unit;
        if (parts.size() == 1) {
            unit = new Unit(parts.getFirst().doc().id(), b.domain, Unit.Kind.SHORT, ids, tokens);
        } else {
            String name = b.group != null ? b.group : "topic";
            int n = emittedPerKey.merge(b.key, 1, Integer::sum);
            unit = new Unit("aggregate:" + b.domain + ":" + name + ":" + n + ":" + ids.getFirst(), b.domain, Unit.Kind.AGGREGATE, ids, tokens);
        }
        out.accept(unit, origins);
    }

    /** Documents waiting, for tests. */
    int waiting() {
        int n = 0;
        for (Iterator<Buffer<O>> it = buffers.values().iterator(); it.hasNext(); ) n += it.next().parts.size();
        return n;
    }
}
