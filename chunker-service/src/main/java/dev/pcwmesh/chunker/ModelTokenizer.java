package dev.pcwmesh.chunker;

import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model's tokenizer and fingerprint, read from the GGUF file's metadata at start-up. The weights
 * are never loaded: the file is memory-mapped, and only the header and the first 4 KiB of each
 * tensor (for the fingerprint) are ever touched.
 */
@Startup
@ApplicationScoped
public class ModelTokenizer {
    private static final Logger LOG = Logger.getLogger(ModelTokenizer.class);

    private final GgufFile file;
    private final Tokenizer tokenizer;
    private final String fingerprint;
    private final int contextLength;

    public ModelTokenizer(ChunkerConfig config) {
        Path path = config.model();
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("pcw.model: no such GGUF file: " + path.toAbsolutePath());
        }
        this.file = GgufFile.open(path);
        try {
            this.tokenizer = Tokenizer.fromGguf(file);
            this.fingerprint = Model.fingerprint(file);
            this.contextLength = file.findString("general.architecture")
                    .map(arch -> file.getInt(arch + ".context_length", 0)).orElse(0);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
        LOG.infof("tokenizer of %s loaded (%d tokens, fingerprint %s, trained context %d)",
                path.getFileName(), tokenizer.vocabSize(), fingerprint.substring(0, 16), contextLength);
    }

    public Tokenizer tokenizer() { return tokenizer; }

    /** {@link Model#fingerprint()} of the model, without its weights. */
    public String fingerprint() { return fingerprint; }

    /** The model's trained context length ({@code <arch>.context_length}), or 0 when the file does not say. */
    public int contextLength() { return contextLength; }

    public String fileName() { return file.path().getFileName().toString(); }

    /** BOS (when the model wants one) and the instruction's tokens: the prefix every window attends to. */
    public int[] prefix(String instruction) {
        int[] text = instruction.isEmpty() ? new int[0] : tokenizer.encode(instruction, false, false);
        if (!tokenizer.addBos() || tokenizer.bos() < 0) return text;
        int[] out = new int[text.length + 1];
        out[0] = tokenizer.bos();
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    @PreDestroy
    void close() {
        file.close();
    }
}
