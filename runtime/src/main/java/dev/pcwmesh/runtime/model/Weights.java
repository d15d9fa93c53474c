package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.gguf.GgufException;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.kernel.TypeKernel;
import dev.pcwmesh.runtime.kernel.WeightMatrix;

/**
 * All weights of a model, by llama.cpp's tensor names. Shapes are checked against the
 * configuration so a mismatched file fails at load with the tensor's name, not later with an
 * index error.
 *
 * @param output the unembedding; the token embedding itself when the file ties them
 */
public record Weights(WeightMatrix tokenEmbedding, LayerWeights[] layers, float[] outputNorm, WeightMatrix output) {

    public static Weights load(GgufFile file, ModelConfig c) {
        WeightMatrix embedding = matrix(file, "token_embd.weight", c.vocabSize(), c.dim());
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            boolean qwen2 = c.architecture() == Architecture.QWEN2;
            boolean qwen3 = c.architecture() == Architecture.QWEN3;
            layers[l] = new LayerWeights(
                    vector(file, p + "attn_norm.weight", c.dim()),
                    matrix(file, p + "attn_q.weight", c.qDim(), c.dim()),
                    matrix(file, p + "attn_k.weight", c.kvDim(), c.dim()),
                    matrix(file, p + "attn_v.weight", c.kvDim(), c.dim()),
                    matrix(file, p + "attn_output.weight", c.dim(), c.qDim()),
                    qwen2 ? vector(file, p + "attn_q.bias", c.qDim()) : optionalVector(file, p + "attn_q.bias", c.qDim()),
                    qwen2 ? vector(file, p + "attn_k.bias", c.kvDim()) : optionalVector(file, p + "attn_k.bias", c.kvDim()),
                    qwen2 ? vector(file, p + "attn_v.bias", c.kvDim()) : optionalVector(file, p + "attn_v.bias", c.kvDim()),
                    qwen3 ? vector(file, p + "attn_q_norm.weight", c.headDim()) : null,
                    qwen3 ? vector(file, p + "attn_k_norm.weight", c.headDim()) : null,
                    vector(file, p + "ffn_norm.weight", c.dim()),
                    matrix(file, p + "ffn_gate.weight", c.ffnDim(), c.dim()),
                    matrix(file, p + "ffn_up.weight", c.ffnDim(), c.dim()),
                    matrix(file, p + "ffn_down.weight", c.dim(), c.ffnDim()));
        }
        float[] outputNorm = vector(file, "output_norm.weight", c.dim());
        WeightMatrix output = file.findTensor("output.weight").isPresent()
                ? matrix(file, "output.weight", c.vocabSize(), c.dim())
                : embedding;
        Weights w = new Weights(embedding, layers, outputNorm, output);
        w.warnOfMatricesLeftMapped(file);
        return w;
    }

    /** One warning for all the Q4_0/Q5_0/Q8_0 matrices whose heap copy did not fit ({@link WeightMatrix}). */
    private void warnOfMatricesLeftMapped(GgufFile file) {
        java.util.Set<WeightMatrix> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        all.add(tokenEmbedding);
        all.add(output);
        for (LayerWeights l : layers) all.addAll(java.util.List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()));
        java.util.List<WeightMatrix> mapped = all.stream().filter(WeightMatrix::heapCopyRefused).toList();
        if (mapped.isEmpty()) return;
        long bytes = mapped.stream().mapToLong(m -> m.data().byteSize()).sum();
        System.getLogger(Weights.class.getName()).log(System.Logger.Level.WARNING,
                "{0}: {1} of its matrices ({2} MiB) stay in the mapped file, where their products are slower: the heap had no room for them "
                        + "(maximum {3} MiB; a larger -Xmx or -XX:MaxRAMPercentage holds them)",
                file.path().getFileName(), mapped.size(), bytes >> 20, Runtime.getRuntime().maxMemory() >> 20);
    }

    private static WeightMatrix matrix(GgufFile file, String name, int rows, int cols) {
        GgufTensor t = file.tensor(name);
        if (t.shape().length != 2 || t.rows() != rows || t.rowLength() != cols) {
            throw new GgufException(file.path().getFileName() + ": tensor " + name + " has shape "
                    + java.util.Arrays.toString(t.shape()) + ", expected [" + cols + ", " + rows + "]");
        }
        return WeightMatrix.of(t);
    }

    private static float[] vector(GgufFile file, String name, int n) {
        GgufTensor t = file.tensor(name);
        if (t.elementCount() != n) {
            throw new GgufException(file.path().getFileName() + ": tensor " + name + " has " + t.elementCount() + " values, expected " + n);
        }
        float[] v = new float[n];
        TypeKernel.of(t.type()).dequantize(t.data(), 0, v, 0, n);
        return v;
    }

    private static float[] optionalVector(GgufFile file, String name, int n) {
        return file.findTensor(name).isPresent() ? vector(file, name, n) : null;
    }
}
