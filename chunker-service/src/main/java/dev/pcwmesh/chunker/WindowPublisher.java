package dev.pcwmesh.chunker;

import org.eclipse.microprofile.config.ConfigProvider;
import dev.pcwmesh.service.KafkaSecurity;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.service.KafkaPublisher;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.List;
import java.util.Map;

/**
 * Writes to Kafka: windows ({@code pcw.windows}, compacted, key {@code {documentId}/{index}}, so one
 * document's windows spread over the partitions and hence over every encoder), manifests
 * ({@code pcw.manifests}, compacted, key = document id) and dead letters ({@code pcw.documents.dlq}).
 * {@link #publish} returns only when every record is acknowledged, manifest last: a manifest on the
 * topic means its windows are there too.
 */
@Startup
@ApplicationScoped
public class WindowPublisher {
    private final ChunkerConfig.Topics topics;
    private final KafkaPublisher kafka;

    public WindowPublisher(ChunkerConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.topics = config.topics();
        this.kafka = new KafkaPublisher(bootstrap, "pcw-chunker", KafkaSecurity.properties(ConfigProvider.getConfig()));
    }

    /** The key of a window's record: {@code {documentId}/{index}}. */
    public static String windowKey(String documentId, int index) {
        return documentId + "/" + index;
    }

    /** Null when the broker answers, else what went wrong. */
    public String kafkaProblem() {
        return kafka.problem();
    }

    /** Every window, then the manifest; waits for all acknowledgements. */
    public void publish(DocumentManifest manifest, List<Window> windows) {
        String id = manifest.getDocumentId();
        kafka.send(windows.stream().map(w -> new ProducerRecord<>(topics.windows(), windowKey(id, w.getIndex()), w.toByteArray())).toList());
        kafka.send(topics.manifests(), id, manifest.toByteArray());
    }

    /** A record of the documents topic that could not be ingested, unchanged, with its reason in headers. */
    public void deadLetter(String key, byte[] value, Map<String, String> headers) {
        kafka.deadLetter(topics.documentsDlq(), key, value, headers);
    }

    @PreDestroy
    void close() {
        kafka.close();
    }
}
