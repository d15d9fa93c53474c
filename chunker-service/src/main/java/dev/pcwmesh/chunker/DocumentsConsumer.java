package dev.pcwmesh.chunker;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.service.KafkaPublisher;
import dev.pcwmesh.service.Rejected;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;


/**
 * Kafka-side ingest: every record of {@code pcw.documents} (value: a serialized {@code IngestRequest};
 * the key, when present, is used as the document id if the request names none) is ingested like a
 * gRPC Ingest. A record that cannot be (unparseable, empty, binary, oversized, too many windows ...)
 * goes to {@code pcw.documents.dlq} unchanged, with headers {@code dead-letter-reason} (the message),
 * {@code pcw-reason} (the short reason), {@code pcw-status} (the gRPC status it would have had) and
 * {@code dead-letter-topic} / {@code -partition} / {@code -offset}; then the record is acknowledged.
 * Anything else that fails falls to the channel's failure strategy (also the dead-letter topic).
 */
@ApplicationScoped
public class DocumentsConsumer {
    private static final Logger LOG = Logger.getLogger(DocumentsConsumer.class);

    private final Documents documents;
    private final WindowPublisher publisher;

    public DocumentsConsumer(Documents documents, WindowPublisher publisher) {
        this.documents = documents;
        this.publisher = publisher;
    }

    @Incoming("documents")
    @Blocking
    public void consume(ConsumerRecord<String, byte[]> record) {
        try {
            if (record.value() == null) throw Rejected.invalid("EMPTY", "the record has no value (a tombstone is not a document)");
            IngestRequest request;
            try {
                request = IngestRequest.parseFrom(record.value());
            } catch (InvalidProtocolBufferException e) {
                throw Rejected.invalid("UNPARSEABLE", "the value is not a serialized pcwmesh.v1.IngestRequest: " + e.getMessage());
            }
            if (request.getDocumentId().isEmpty() && record.key() != null && !record.key().isEmpty()) {
                request = request.toBuilder().setDocumentId(record.key()).build();
            }
            documents.ingest(request, "kafka");
        } catch (Rejected e) {
            if ("KAFKA_UNAVAILABLE".equals(e.reason()) || "INTERRUPTED".equals(e.reason())) throw e;
            publisher.deadLetter(record.key(), record.value(), KafkaPublisher.deadLetterHeaders(e, record));
            LOG.warnf("record %s-%d@%d sent to the dead-letter topic: %s", record.topic(), record.partition(), record.offset(), e.getMessage());
        }
    }
}
