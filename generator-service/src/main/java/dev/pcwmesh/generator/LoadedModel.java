package dev.pcwmesh.generator;

import dev.pcwmesh.runtime.model.Model;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.nio.file.Path;

/** The model that answers ({@code pcw.model}), loaded once at start-up and shared by every ask (read-only). */
@Startup
@ApplicationScoped
public class LoadedModel {
    private static final Logger LOG = Logger.getLogger(LoadedModel.class);

    private final Model model;

    public LoadedModel(GeneratorConfig config) {
        Path path = config.model();
        if (!Files.isRegularFile(path)) throw new IllegalStateException("pcw.model: no such GGUF file: " + path.toAbsolutePath());
        this.model = Model.load(path);
        LOG.infof("model %s loaded (fingerprint %s, trained context %d)", path.getFileName(),
                model.fingerprint().substring(0, 16), model.config().contextLength());
    }

    public Model model() { return model; }

    @PreDestroy
    void close() {
        model.close();
    }
}
