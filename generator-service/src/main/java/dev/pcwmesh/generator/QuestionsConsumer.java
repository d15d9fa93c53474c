package dev.pcwmesh.generator;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AnswerRecord;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.QuestionRecord;
import dev.pcwmesh.service.KafkaPublisher;
import dev.pcwmesh.service.Rejected;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.util.UUID;

/**
 * Questions from Kafka: every record of {@code pcw.questions} (key: request id; value: a serialized
 * {@code QuestionRecord}) is answered like a gRPC Ask, waiting for a free slot rather than being
 * refused, and its {@code AnswerRecord} (full text and figures, or the error) goes to
 * {@code pcw.answers} under the request id. A record that is not a question at all goes to
 * {@code pcw.questions.dlq} unchanged with reason headers; a question that is refused (unknown
 * document, empty question ...) is answered with its error, because the asker waits for its key.
 */
@ApplicationScoped
public class QuestionsConsumer {
    private static final Logger LOG = Logger.getLogger(QuestionsConsumer.class);

    private final Asks asks;
    private final AnswerPublisher publisher;

    public QuestionsConsumer(Asks asks, AnswerPublisher publisher) {
        this.asks = asks;
        this.publisher = publisher;
    }

    @Incoming("questions")
    @Blocking
    public void consume(ConsumerRecord<String, byte[]> record) throws InterruptedException {
        AskRequest request;
        try {
            if (record.value() == null) throw new InvalidProtocolBufferException("the record has no value");
            request = QuestionRecord.parseFrom(record.value()).getRequest();
        } catch (InvalidProtocolBufferException e) {
            Rejected why = Rejected.invalid("UNPARSEABLE", "the value is not a serialized pcwmesh.v1.QuestionRecord: " + e.getMessage());
            publisher.deadLetter(record.key(), record.value(), KafkaPublisher.deadLetterHeaders(why, record));
            LOG.warnf("record %s-%d@%d sent to the dead-letter topic: not a question", record.topic(), record.partition(), record.offset());
            return;
        }
        String requestId = !request.getRequestId().isEmpty() ? request.getRequestId()
                : record.key() != null && !record.key().isEmpty() ? record.key() : UUID.randomUUID().toString();
        AnswerRecord.Builder answer = AnswerRecord.newBuilder().setRequestId(requestId);
        StringBuilder text = new StringBuilder();
        asks.acquireWaiting();
        try {
            AnswerFigures figures = asks.answer(request, text::append, () -> false, Long.MAX_VALUE);
            answer.setText(text.toString()).setFigures(figures);
        } catch (Rejected e) {
            answer.setError(e.code().name() + ": " + e.getMessage());
        } finally {
            asks.release();
        }
        publisher.answer(answer.build());
    }
}
