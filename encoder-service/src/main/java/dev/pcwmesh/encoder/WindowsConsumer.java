package dev.pcwmesh.encoder;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.context.PositionEncoding;
import dev.pcwmesh.service.KafkaPublisher;
import dev.pcwmesh.service.Rejected;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Encodes every window of {@code pcw.windows} (value: a serialized {@code Window}, which carries the
 * shared prefix tokens) under the model file's position encoding: the prefix first (once, by content
 * id), then the window after it; then publishes where both live on {@code pcw.segments}.
 *
 * <p>Runs on the {@code encoder-workers} pool ({@code pcw.encoder.threads} threads), unordered, so the
 * windows of a partition are encoded side by side while SmallRye's poll loop keeps polling (it pauses
 * the partitions when its queue is full, so a slow encode never exceeds {@code max.poll.interval.ms}).
 * The record is acknowledged when this method returns, that is after the broker acknowledged the
 * locations; with the throttled commit strategy an offset is committed only when every record before
 * it is acknowledged, so an encoder killed mid-way encodes again, after its restart, every window whose
 * location it had not published (and finds already stored those it had encoded: same content id).
 *
 * <p>A window that cannot be encoded (unparseable, wrong model, too long, bad token ids) goes to
 * {@code pcw.windows.dlq} unchanged, with headers {@code dead-letter-reason} (the message), {@code pcw-reason},
 * {@code pcw-status} and {@code dead-letter-topic} / {@code -partition} / {@code -offset}, like the chunker's
 * dead letters; anything else falls to the channel's failure strategy (also the dead-letter topic).
 */
@ApplicationScoped
public class WindowsConsumer {
    private static final Logger LOG = Logger.getLogger(WindowsConsumer.class);
    private static final int PREFIX_LOCATIONS_REMEMBERED = 10_000;

    private final WindowEncoder encoder;
    private final LocationPublisher publisher;
    /** "{documentId}/{prefixId}" pairs whose prefix location this process has published (so not with every window). */
    private final Set<String> prefixPublished = Collections.synchronizedSet(Collections.newSetFromMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > PREFIX_LOCATIONS_REMEMBERED;
        }
    }));

    public WindowsConsumer(WindowEncoder encoder, LocationPublisher publisher) {
        this.encoder = encoder;
        this.publisher = publisher;
    }

    @Incoming("windows")
    @Blocking(value = "encoder-workers", ordered = false)
    public void consume(ConsumerRecord<String, byte[]> record) {
        try {
            if (record.value() == null) throw Rejected.invalid("EMPTY", "the record has no value (a tombstone is not a window)");
            Window w;
            try {
                w = Window.parseFrom(record.value());
            } catch (InvalidProtocolBufferException e) {
                throw Rejected.invalid("UNPARSEABLE", "the value is not a serialized pcwmesh.v1.Window: " + e.getMessage());
            }
            Encoded e = encode(w);
            publisher.publish(e.locations());
            // Remembered only once the broker has acknowledged it (publish throws otherwise).
            if (e.prefixPair() != null) prefixPublished.add(e.prefixPair());
        } catch (Rejected e) {
            if ("KAFKA_UNAVAILABLE".equals(e.reason()) || "INTERRUPTED".equals(e.reason())) throw e;
            publisher.deadLetter(record.key(), record.value(), KafkaPublisher.deadLetterHeaders(e, record));
            LOG.warnf("record %s-%d@%d sent to the dead-letter topic: %s", record.topic(), record.partition(), record.offset(), e.getMessage());
        }
    }

    /** What one window gives: the locations to publish, and the document/prefix pair to remember once they are. */
    private record Encoded(List<SegmentLocation> locations, String prefixPair) {}

    /** Encodes (or finds stored) the window and its prefix; the prefix location only the first time for its document. */
    private Encoded encode(Window w) {
        int[] prefix = w.getPrefixTokensList().stream().mapToInt(Integer::intValue).toArray();
        int[] tokens = w.getTokensList().stream().mapToInt(Integer::intValue).toArray();
        String what = "window " + w.getIndex() + " of document " + w.getDocumentId();
        if (w.getDocumentId().isEmpty()) throw Rejected.invalid("NO_DOCUMENT", "the window names no document");
        encoder.check(w.getModelFingerprint(), true, prefix, tokens, what);
        PositionEncoding positions = encoder.fileEncoding();
        List<SegmentLocation> out = new ArrayList<>(2);
        String prefixPair = null;
        if (prefix.length > 0) {
            WindowEncoder.Stored p = encoder.storePrefix(prefix, positions);
            prefixPair = w.getDocumentId() + "/" + p.id();
            if (!prefixPublished.contains(prefixPair)) out.add(encoder.location(p, w.getDocumentId(), -1, positions));
        }
        WindowEncoder.Stored s = encoder.storeWindow(prefix, tokens, positions);
        out.add(encoder.location(s, w.getDocumentId(), w.getIndex(), positions));
        if (s.encoded()) LOG.debugf("%s encoded: %d tokens, %d bytes", what, s.tokenCount(), s.byteSize());
        return new Encoded(out, prefixPair);
    }
}
