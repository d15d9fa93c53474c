package dev.pcwmesh.corpus;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import dev.pcwmesh.service.KafkaPublisher;
import dev.pcwmesh.service.KafkaSecurity;
import dev.pcwmesh.service.KafkaTopics;
import dev.pcwmesh.service.Rejected;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The corpus pipeline as a Kafka stage: documents in on {@value #IN} (a JSON object per record, fields as
 * in a JSONL source; the record key is the id when the object has none), packed sequences out on
 * {@value #OUT} (a JSON object per sequence, as a line of {@code sequences.jsonl}, key
 * {@code UNIT@OFFSET} of its first piece). The same {@link Preparer}, {@link Aggregator} and
 * {@link Packer} as {@code pcw corpus}; mixing is a {@link StreamingMixer}, since a stream has no totals.
 *
 * <p>A plain kafka-clients loop in consumer group {@value #GROUP}: offsets are committed only once what a
 * record became is acknowledged by the broker ({@link PendingOffsets}), so a crash re-reads, never loses.
 * A record that is not a document goes unchanged to {@value #DLQ} with {@link KafkaPublisher}'s
 * dead-letter headers ({@code pcw-reason}: {@code BAD_RECORD}); a document the filter rejects goes to
 * {@value #REJECTED} with the same headers, {@code pcw-reason} being the filter's reason. When no record
 * has come for {@code idleFlush}, waiting aggregates and the partial sequence (padded) go out.
 */
public final class KafkaCorpusStage implements AutoCloseable {
    public static final String IN = "pcw.corpus.in", OUT = "pcw.corpus.out", DLQ = "pcw.corpus.in.dlq", REJECTED = "pcw.corpus.rejected";
    public static final String GROUP = "pcw-corpus";
    private static final JsonFactory JSON = new JsonFactory();

    /** Counts for progress and tests. */
    public record Counts(long records, long rejected, long deadLetters, long sequences, long units) {}

    private final String bootstrap;
    private final Map<String, String> security;
    private final CorpusSettings settings;
    private final Tokenizer tokenizer;
    private final PerplexityFilter perplexity;
    private final Duration idleFlush;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaPublisher publisher;
    private final AtomicLong records = new AtomicLong(), rejected = new AtomicLong(), deadLetters = new AtomicLong(),
            sequences = new AtomicLong(), units = new AtomicLong();
    private volatile boolean stopping;

    private Preparer preparer;
    private Aggregator<PendingOffsets.Ref> aggregator;
    private StreamingMixer mixer;
    private Packer packer;
    private PendingOffsets offsets;
    private final Map<String, List<PendingOffsets.Ref>> unitOrigins = new HashMap<>();
    private final List<ProducerRecord<String, byte[]>> outBatch = new ArrayList<>();
    private final List<Packer.Sequence> outSequences = new ArrayList<>();
    private int specials;

    public KafkaCorpusStage(String bootstrap, Map<String, String> security, CorpusSettings settings, Tokenizer tokenizer,
                            PerplexityFilter perplexity, Duration idleFlush) {
        this.bootstrap = bootstrap;
        this.security = security;
        this.settings = settings;
        this.tokenizer = tokenizer;
        this.perplexity = perplexity;
        this.idleFlush = idleFlush;
        KafkaTopics.ensure(bootstrap, security, List.of(new NewTopic(IN, 1, (short) 1), new NewTopic(OUT, 1, (short) 1),
                new NewTopic(DLQ, 1, (short) 1), new NewTopic(REJECTED, 1, (short) 1)), t -> {});
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
        this.consumer = new KafkaConsumer<>(KafkaSecurity.apply(p, security), new StringDeserializer(), new ByteArrayDeserializer());
        this.publisher = new KafkaPublisher(bootstrap, "pcw-corpus", security);
        reset();
    }

    private void reset() {
        preparer = Preparer.from(settings, tokenizer, perplexity);
        specials = (tokenizer.bos() >= 0 ? 1 : 0) + (tokenizer.eos() >= 0 ? 1 : 0);
        aggregator = new Aggregator<>(settings.sequenceLength(), CorpusPipeline.separator(tokenizer), settings.maxBufferedTokens(),
                settings.topicalMin(), settings.seed(), this::unit);
        mixer = new StreamingMixer(settings.mix(), settings.shortKeep(), settings.longMinTokens(), settings.seed(), settings.sequenceLength());
        packer = new Packer(settings.sequenceLength(), tokenizer.bos(), tokenizer.eos(), tokenizer.eos() >= 0 ? tokenizer.eos() : 0, outSequences::add);
        offsets = new PendingOffsets();
        unitOrigins.clear();
    }

    public Counts counts() {
        return new Counts(records.get(), rejected.get(), deadLetters.get(), sequences.get(), units.get());
    }

    /** Runs until {@link #stop()}; call from one thread. */
    public void run() {
        consumer.subscribe(List.of(IN), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                flushAll();
                commit();
                for (TopicPartition p : partitions) offsets.forget(p);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
        });
        long lastRecord = System.nanoTime();
        try {
            while (!stopping) {
                var batch = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, byte[]> r : batch) process(r);
                if (!batch.isEmpty()) lastRecord = System.nanoTime();
                else if (System.nanoTime() - lastRecord > idleFlush.toNanos() && (offsets.any() || packer.hasPartial() || !aggregator.isEmpty())) flushAll();
                publish();
                commit();
            }
        } catch (WakeupException e) {
            if (!stopping) throw e;
        }
        try {
            publish();
            commit();
        } catch (RuntimeException e) {
            // stopping: what is not committed is read again by the next run
        }
    }

    /** Asks {@link #run()} to return (from any thread). */
    public void stop() {
        stopping = true;
        consumer.wakeup();
    }

    private void process(ConsumerRecord<String, byte[]> r) {
        records.incrementAndGet();
        PendingOffsets.Ref ref = new PendingOffsets.Ref(new TopicPartition(r.topic(), r.partition()), r.offset());
        offsets.read(ref);
        Document doc;
        try {
            doc = parse(r);
        } catch (Rejected why) {
            publisher.deadLetter(DLQ, r.key(), r.value(), KafkaPublisher.deadLetterHeaders(why, r));
            deadLetters.incrementAndGet();
            offsets.done(ref);
            return;
        }
        Preparer.Outcome o = preparer.prepare(doc);
        if (o.rejection() != null) {
            Rejected why = Rejected.invalid(o.rejection().reason().name(), o.rejection().detail());
            Map<String, String> headers = KafkaPublisher.deadLetterHeaders(why, r);
            headers.put("pcw-document-id", doc.id());
            publisher.deadLetter(REJECTED, r.key(), r.value(), headers);
            rejected.incrementAndGet();
            offsets.done(ref);
            return;
        }
        Preparer.Prepared p = o.prepared();
        switch (p.kind()) {
            case HOLISTIC -> unit(new Unit(doc.id(), p.domain(), Unit.Kind.HOLISTIC, List.of(doc.id()), p.tokens()), List.of(ref));
            case ALONE -> unit(new Unit(doc.id(), p.domain(), Unit.Kind.SHORT, List.of(doc.id()), p.tokens()), List.of(ref));
            case AGGREGABLE -> aggregator.add(doc, p.domain(), p.tokens(), ref);
        }
    }

    /** A unit formed: to the packer when the mixer admits it, else its records are done. */
    private void unit(Unit unit, List<PendingOffsets.Ref> origins) {
        if (!mixer.admit(unit.id(), unit.domain(), unit.packedLength(specials))) {
            origins.forEach(offsets::done);
            return;
        }
        units.incrementAndGet();
        unitOrigins.computeIfAbsent(unit.id(), k -> new ArrayList<>()).addAll(origins);
        packer.add(unit, Integer.MAX_VALUE);
    }

    private void flushAll() {
        aggregator.flush();
        packer.finish();
        publish();
    }

    /** Sends the finished sequences and waits for the broker; then their units' records are done. */
    private void publish() {
        if (outSequences.isEmpty()) return;
        outBatch.clear();
        for (Packer.Sequence s : outSequences) {
            Packer.Piece first = s.pieces().getFirst();
            ProducerRecord<String, byte[]> rec = new ProducerRecord<>(OUT, first.unit() + "@" + first.unitOffset(), json(s));
            rec.headers().add(new RecordHeader("pcw-sequence-length", Integer.toString(s.tokens().length).getBytes(StandardCharsets.UTF_8)));
            outBatch.add(rec);
        }
        publisher.send(outBatch);
        for (Packer.Sequence s : outSequences) {
            sequences.incrementAndGet();
            for (Packer.Piece p : s.pieces()) {
                if (!p.last()) continue;
                List<PendingOffsets.Ref> refs = unitOrigins.remove(p.unit());
                if (refs != null) refs.forEach(offsets::done);
            }
        }
        outSequences.clear();
    }

    private void commit() {
        var c = offsets.toCommit();
        if (!c.isEmpty()) consumer.commitSync(c);
    }

    /** The document a record holds; BAD_RECORD when it holds none. */
    static Document parse(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) throw Rejected.invalid("BAD_RECORD", "the record has no value");
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(r.value())).toString();
        } catch (CharacterCodingException e) {
            throw Rejected.invalid("BAD_RECORD", "the record is not valid UTF-8");
        }
        String fallback = r.key() != null ? r.key() : r.topic() + "-" + r.partition() + "@" + r.offset();
        try {
            return JsonlSource.parse(json, JsonlSource.Fields.defaults(), fallback, r.topic() + "/" + fallback);
        } catch (IllegalArgumentException e) {
            throw Rejected.invalid("BAD_RECORD", e.getMessage());
        }
    }

    static byte[] json(Packer.Sequence s) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (JsonGenerator g = JSON.createGenerator(bytes, JsonEncoding.UTF8)) {
                g.writeStartObject();
                g.writeArrayFieldStart("input_ids");
                for (int t : s.tokens()) g.writeNumber(t);
                g.writeEndArray();
                g.writeArrayFieldStart("segments");
                for (int t : s.segments()) g.writeNumber(t);
                g.writeEndArray();
                g.writeArrayFieldStart("pieces");
                for (Packer.Piece p : s.pieces()) {
                    g.writeStartObject();
                    g.writeStringField("unit", p.unit());
                    g.writeStringField("domain", p.domain());
                    g.writeNumberField("unit_offset", p.unitOffset());
                    g.writeNumberField("start", p.start());
                    g.writeNumberField("length", p.length());
                    g.writeBooleanField("first", p.first());
                    g.writeBooleanField("last", p.last());
                    if (p.first()) {
                        g.writeArrayFieldStart("documents");
                        for (String d : p.documents()) g.writeString(d);
                        g.writeEndArray();
                    }
                if (p.first()) {
                    g.writeArrayFieldStart("documents");
                    for (String d : p.documents()) g.writeString(d);
                    g.writeEndArray();
                }
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeNumberField("padding", s.padding());
                g.writeEndObject();
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
        publisher.close();
    }

    String bootstrap() { return bootstrap; }

    Map<String, String> security() { return security; }
}
