package dev.pcwmesh.generator;

import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.ChatTemplate;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The model that answers ({@code pcw.model}), loaded once at start-up and shared by every ask
 * (read-only), with the chat template its file carries, if any.
 */
@Startup
@ApplicationScoped
public class LoadedModel {
    private static final Logger LOG = Logger.getLogger(LoadedModel.class);

    private final Model model;
    private final Optional<ChatTemplate> chatTemplate;

    public LoadedModel(GeneratorConfig config) {
        Path path = config.model();
        if (!Files.isRegularFile(path)) throw new IllegalStateException("pcw.model: no such GGUF file: " + path.toAbsolutePath());
        this.model = Model.load(path, config.backend());
        // Only the file's own template: a model without one is asked in its question format, not
        // in a chat format it was never trained on.
        this.chatTemplate = model.file().findString("tokenizer.chat_template").filter(t -> !t.isBlank())
                .map(t -> ChatTemplate.fromGguf(model.file(), model.tokenizer()));
        LOG.infof("model %s loaded on %s (fingerprint %s, trained context %d)", path.getFileName(), model.backend().label(),
                model.fingerprint().substring(0, 16), model.config().contextLength());
    }

    public Model model() { return model; }

    /** The chat template of the model file, empty when the file has none. */
    public Optional<ChatTemplate> chatTemplate() { return chatTemplate; }

    @PreDestroy
    void close() {
        model.close();
    }
}
