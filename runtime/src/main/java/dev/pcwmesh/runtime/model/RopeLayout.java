package dev.pcwmesh.runtime.model;

/**
 * Which values of a head form the pairs that rotary embedding rotates, as in llama.cpp.
 * GGUF converters permute Llama's q/k weights so that the {@code NORMAL} layout applies there.
 */
public enum RopeLayout {
    /** Pairs {@code (x[2i], x[2i+1])}. */
    NORMAL,
    /** Pairs {@code (x[i], x[i + d/2])} (GPT-NeoX). */
    NEOX
}
