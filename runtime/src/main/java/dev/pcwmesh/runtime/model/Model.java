package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.kv.SegmentIds;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A model loaded from one GGUF file: configuration, weights (read in place from the mapped file),
 * tokenizer, and a fingerprint that identifies the weights in KV segment ids.
 */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final Weights weights;
    private final Rope rope;
    private final Tokenizer tokenizer;
    private final String fingerprint;
    private final Backend backend;
    /** State other backends keep for this model (device copies of the weights), closed with it. */
    private final Map<Class<?>, AutoCloseable> attachments = new LinkedHashMap<>();

    private Model(GgufFile file, Backend backend) {
        this.file = file;
        this.config = ModelConfig.fromGguf(file);
        this.weights = Weights.load(file, config);
        this.rope = new Rope(config.rope());
        this.tokenizer = Tokenizer.fromGguf(file);
        this.fingerprint = fingerprint(file);
        this.backend = backend;
    }

    /** Opens and loads a model for the CPU; the file stays mapped until {@link #close()}. */
    public static Model load(Path path) {
        return load(path, Backend.CPU);
    }

    /**
     * Opens and loads a model whose forward passes ({@link ForwardPass#of}) run on {@code backend},
     * resolved now: {@code AUTO} becomes CUDA or CPU, and {@code CUDA} fails here, saying why, when
     * no GPU is usable.
     */
    public static Model load(Path path, Backend backend) {
        Backend resolved = backend.resolve();
        GgufFile file = GgufFile.open(path);
        try {
            return new Model(file, resolved);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public GgufFile file() { return file; }
    public ModelConfig config() { return config; }
    public Weights weights() { return weights; }
    public Rope rope() { return rope; }
    public Tokenizer tokenizer() { return tokenizer; }
    /** CPU or CUDA. */
    public Backend backend() { return backend; }

    /** The attachment of this type, made by {@code make} on first use; closed when the model is. */
    public synchronized <T extends AutoCloseable> T attachment(Class<T> type, Supplier<T> make) {
        return type.cast(attachments.computeIfAbsent(type, k -> make.get()));
    }

    /** A hex SHA-256 over the file's header (metadata and tensor infos) and the first 4 KiB of every tensor. */
    public String fingerprint() { return fingerprint; }

    /** A short name for messages: {@code general.name}, or the file name. */
    public String name() {
        return file.findString("general.name").orElse(file.path().getFileName().toString());
    }

    /**
     * The fingerprint of the model in {@code file}, computed without loading its weights (only the
     * header and 4 KiB of each tensor are read): what a service that needs only the tokenizer uses
     * to name the model its windows belong to. Equal to {@link #fingerprint()} of the loaded model.
     */
    public static String fingerprint(GgufFile file) {
        MessageDigest sha = SegmentIds.sha256();
        MemorySegment seg = file.segment();
        sha.update(seg.asSlice(0, file.dataOffset()).toArray(ValueLayout.JAVA_BYTE));
        for (GgufTensor t : file.tensors().values()) {
            sha.update(t.data().asSlice(0, Math.min(4096, t.data().byteSize())).toArray(ValueLayout.JAVA_BYTE));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    @Override
    public void close() {
        synchronized (this) {
            for (AutoCloseable a : attachments.values()) {
                try {
                    a.close();
                } catch (Exception e) {
                    // the file is closed below regardless
                }
            }
            attachments.clear();
        }
        file.close();
    }
}
