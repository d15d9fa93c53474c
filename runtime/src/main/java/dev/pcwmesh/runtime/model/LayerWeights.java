package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.kernel.WeightMatrix;

/**
 * The weights of one transformer block. Vectors are decoded to floats at load time; matrices
 * stay in the file's tensor type and are read in place from the mapped file.
 *
 * @param qBias  q/k/v biases (qwen2), or null
 * @param qNorm  per-head RMSNorm weights of q and k (qwen3), or null
 */
public record LayerWeights(
        float[] attnNorm,
        WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
        float[] qBias, float[] kBias, float[] vBias,
        float[] qNorm, float[] kNorm,
        float[] ffnNorm,
        WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
}
