package dev.pcwmesh.encoder;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the model is loaded and the Kafka broker answers (gRPC and the messaging channels add their own checks). */
@Readiness
@ApplicationScoped
public class EncoderReadiness implements HealthCheck {
    private final WindowEncoder encoder;
    private final LocationPublisher publisher;
    private final SegmentStore store;

    public EncoderReadiness(WindowEncoder encoder, LocationPublisher publisher, SegmentStore store) {
        this.encoder = encoder;
        this.publisher = publisher;
        this.store = store;
    }

    @Override
    public HealthCheckResponse call() {
        String kafka = publisher.kafkaProblem();
        return HealthCheckResponse.named("pcw-encoder").status(kafka == null)
                .withData("kafka", kafka == null ? "reachable" : kafka)
                .withData("model", encoder.model().name())
                .withData("fingerprint", encoder.fingerprint())
                .withData("address", encoder.address())
                .withData("segmentsInMemory", store.memorySegments())
                .withData("segmentsOnDisk", store.diskSegments())
                .build();
    }
}
