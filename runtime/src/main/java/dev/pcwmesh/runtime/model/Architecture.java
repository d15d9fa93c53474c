package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.gguf.GgufException;

/**
 * The GGUF architectures the runtime runs, with what differs between them. Mistral, TinyLlama and
 * SmolLM files use {@code llama}.
 */
public enum Architecture {
    /** Llama 2/3, Mistral, TinyLlama, SmolLM: rotary pairs are adjacent values (llama.cpp's "normal" mode). */
    LLAMA("llama", RopeLayout.NORMAL),
    /** Qwen2 / Qwen2.5: q/k/v biases, NeoX rotary layout. */
    QWEN2("qwen2", RopeLayout.NEOX),
    /** Qwen3: RMSNorm of each q and k head before rotation, NeoX rotary layout. */
    QWEN3("qwen3", RopeLayout.NEOX);

    private final String ggufName;
    private final RopeLayout ropeLayout;

    Architecture(String ggufName, RopeLayout ropeLayout) {
        this.ggufName = ggufName;
        this.ropeLayout = ropeLayout;
    }

    /** The value of {@code general.architecture}, also the prefix of the architecture's keys. */
    public String ggufName() { return ggufName; }

    public RopeLayout ropeLayout() { return ropeLayout; }

    public static Architecture fromGguf(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) return a;
        }
        throw new GgufException("unsupported architecture '" + name + "': supported are llama, qwen2, qwen3");
    }
}
