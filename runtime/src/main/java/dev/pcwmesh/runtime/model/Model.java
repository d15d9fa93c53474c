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

    private Model(GgufFile file) {
        this.file = file;
        this.config = ModelConfig.fromGguf(file);
        this.weights = Weights.load(file, config);
        this.rope = new Rope(config.rope());
        this.tokenizer = Tokenizer.fromGguf(file);
        this.fingerprint = fingerprint(file);
    }

    /** Opens and loads a model; the file stays mapped until {@link #close()}. */
    public static Model load(Path path) {
        GgufFile file = GgufFile.open(path);
        try {
            return new Model(file);
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
        file.close();
    }
}
