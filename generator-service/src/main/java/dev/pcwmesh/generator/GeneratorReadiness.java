package dev.pcwmesh.generator;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the model is loaded, the broker answers, and the mesh view has caught up with the topics. */
@Readiness
@ApplicationScoped
public class GeneratorReadiness implements HealthCheck {
    private final LoadedModel model;
    private final MeshView view;
    private final AnswerPublisher publisher;
    private final Asks asks;

    public GeneratorReadiness(LoadedModel model, MeshView view, AnswerPublisher publisher, Asks asks) {
        this.model = model;
        this.view = view;
        this.publisher = publisher;
        this.asks = asks;
    }

    @Override
    public HealthCheckResponse call() {
        String kafka = publisher.kafkaProblem();
        String mesh = view.problem();
        return HealthCheckResponse.named("pcw-generator").status(kafka == null && mesh == null)
                .withData("kafka", kafka == null ? "reachable" : kafka)
                .withData("mesh-view", mesh == null ? "caught up" : mesh)
                .withData("documents", view.documents())
                .withData("fingerprint", model.model().fingerprint())
                .withData("free-slots", asks.freeSlots())
                .build();
    }
}
