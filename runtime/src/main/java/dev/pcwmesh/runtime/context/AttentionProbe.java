package dev.pcwmesh.runtime.context;

/**
 * Told how much attention each query head of a new token gave each block of a plan (after the
 * softmax, so the masses of a head sum to 1 with the live tokens'). Called from worker threads.
 */
@FunctionalInterface
public interface AttentionProbe {
    void blockMass(int layer, int token, int head, int block, float mass);
}
