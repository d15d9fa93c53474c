package dev.pcwmesh.chunker;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the model's tokenizer is loaded (Kafka and gRPC readiness come from their extensions). */
@Readiness
@ApplicationScoped
public class TokenizerReadiness implements HealthCheck {
    private final ModelTokenizer model;

    public TokenizerReadiness(ModelTokenizer model) {
        this.model = model;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("pcw-chunker-tokenizer").up()
                .withData("model", model.fileName())
                .withData("fingerprint", model.fingerprint())
                .withData("vocab", model.tokenizer().vocabSize())
                .build();
    }
}
