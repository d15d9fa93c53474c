package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufException;

/**
 * The shape and hyper-parameters of a transformer, read from GGUF metadata
 * ({@code {arch}.block_count}, {@code .embedding_length} and so on).
 *
 * @param headDim     size of one query/key head ({@code attention.key_length}, default dim/heads)
 * @param valueDim    size of one value head ({@code attention.value_length}, default headDim)
 * @param ropeDims    how many leading values of each head are rotated ({@code rope.dimension_count})
 * @param contextLength the trained context window ({@code context_length})
 */
public record ModelConfig(
        Architecture architecture,
        int layers,
        int dim,
        int ffnDim,
        int heads,
        int kvHeads,
        int headDim,
        int valueDim,
        int vocabSize,
        int contextLength,
        float normEps,
        RopeConfig rope) {

    public ModelConfig {
        if (layers <= 0 || dim <= 0 || ffnDim <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || vocabSize <= 0) {
            throw new GgufException("model shape has a non-positive size: " + this);
        }
        if (heads % kvHeads != 0) {
            throw new GgufException("head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
    }

    /** Reads the configuration; {@code vocabSize} comes from the embedding tensor (the authority llama.cpp uses). */
    public static ModelConfig fromGguf(GgufFile file) {
        Architecture arch = Architecture.fromGguf(file.getString("general.architecture"));
        String p = arch.ggufName() + ".";
        int dim = file.getInt(p + "embedding_length");
        int heads = file.getInt(p + "attention.head_count");
        int kvHeads = file.getInt(p + "attention.head_count_kv", heads);
        int headDim = file.getInt(p + "attention.key_length", dim / heads);
        int valueDim = file.getInt(p + "attention.value_length", headDim);
        if (valueDim != headDim) {
            throw new GgufException("attention.value_length " + valueDim + " differs from key_length " + headDim + "; not supported");
        }
        int vocab = file.tensor("token_embd.weight").rows();
        return new ModelConfig(
                arch,
                file.getInt(p + "block_count"),
                dim,
                file.getInt(p + "feed_forward_length"),
                heads,
                kvHeads,
                headDim,
                valueDim,
                vocab,
                file.getInt(p + "context_length", 2048),
                file.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                RopeConfig.fromGguf(file, arch, headDim));
    }

    /** Values of all query heads together. */
    public int qDim() { return heads * headDim; }

    /** Values of all key (or value) heads together: the width of one token's row in a KV segment. */
    public int kvDim() { return kvHeads * headDim; }

    /** Query heads that share one key/value head (grouped-query attention). */
    public int groupSize() { return heads / kvHeads; }
}
