package dev.pcwmesh.chunker;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the model's tokenizer is loaded and the Kafka broker answers (gRPC readiness comes from its extension). */
@Readiness
@ApplicationScoped
public class ChunkerReadiness implements HealthCheck {
    private final ModelTokenizer model;
    private final WindowPublisher publisher;

    public ChunkerReadiness(ModelTokenizer model, WindowPublisher publisher) {
        this.model = model;
        this.publisher = publisher;
    }

    @Override
    public HealthCheckResponse call() {
        String kafka = publisher.kafkaProblem();
        return HealthCheckResponse.named("pcw-chunker").status(kafka == null)
                .withData("kafka", kafka == null ? "reachable" : kafka)
                .withData("model", model.fileName())
                .withData("fingerprint", model.fingerprint())
                .withData("vocab", model.tokenizer().vocabSize())
                .build();
    }
}
