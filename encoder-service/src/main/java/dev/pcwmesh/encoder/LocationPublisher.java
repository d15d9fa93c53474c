package dev.pcwmesh.encoder;

import org.eclipse.microprofile.config.ConfigProvider;
import dev.pcwmesh.service.KafkaSecurity;
import dev.pcwmesh.proto.v1.SegmentLocation;
import dev.pcwmesh.service.KafkaPublisher;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.List;
import java.util.Map;

/**
 * Writes to Kafka: segment locations ({@code pcw.segments}, compacted, key {@code {documentId}/{index}}
 * or {@code {documentId}/prefix}) and dead letters ({@code pcw.windows.dlq}), through one idempotent
 * producer ({@code acks=all}). Both methods return only when the broker has acknowledged every record:
 * the windows consumer acknowledges its input record (and so lets its offset be committed) only after
 * that, so an encoder killed in between encodes the window again after its restart.
 */
@Startup
@ApplicationScoped
public class LocationPublisher {
    private final EncoderConfig.Topics topics;
    private final KafkaPublisher kafka;

    public LocationPublisher(EncoderConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topics = config.topics();
        this.kafka = new KafkaPublisher(bootstrap, "pcw-encoder", KafkaSecurity.properties(ConfigProvider.getConfig()));
    }

    /** The key of a window's location: {@code {documentId}/{index}}, the same as its window's key on {@code pcw.windows}. */
    public static String windowKey(String documentId, int index) {
        return documentId + "/" + index;
    }

    /** The key of a document's prefix location: {@code {documentId}/prefix}. */
    public static String prefixKey(String documentId) {
        return documentId + "/prefix";
    }

    /** Null when the broker answers, else what went wrong. */
    public String kafkaProblem() {
        return kafka.problem();
    }

    /** Publishes locations (keyed by {@link #prefixKey} for window index -1, else {@link #windowKey}) and waits for every acknowledgement. */
    public void publish(List<SegmentLocation> locations) {
        kafka.send(locations.stream().map(l -> new ProducerRecord<>(topics.segments(),
                l.getWindowIndex() < 0 ? prefixKey(l.getDocumentId()) : windowKey(l.getDocumentId(), l.getWindowIndex()), l.toByteArray())).toList());
    }

    /** A window that could not be encoded, unchanged, with its reason in headers. */
    public void deadLetter(String key, byte[] value, Map<String, String> headers) {
        kafka.deadLetter(topics.windowsDlq(), key, value, headers);
    }

    @PreDestroy
    void close() {
        kafka.close();
    }
}
