package dev.pcwmesh.langchain4j;

import dev.pcwmesh.proto.v1.StrategySpec;

import java.util.Objects;

/**
 * How the generator shows the documents to the model: a context strategy by name and its
 * parameters, as {@code pcw ask --strategy} takes them (the mesh's {@code StrategySpec}).
 * A parameter left at 0 (or an empty name) means the generator's default.
 *
 * <pre>{@code
 * PcwMeshStrategy.parallel()                 // every window at once (the default)
 * PcwMeshStrategy.select(4)                  // the 4 windows the question attends to most
 * PcwMeshStrategy.builder().name("sequential").rope("yarn").ropeScale(8).build()
 * }</pre>
 */
public final class PcwMeshStrategy {

    private final String name;
    private final int topK;
    private final int blockSize;
    private final float apeTemperature;
    private final float apeScale;
    private final int sinks;
    private final int local;
    private final int chunk;
    private final String rope;
    private final float ropeScale;
    private final int reropeWindow;

    private PcwMeshStrategy(Builder b) {
        this.name = b.name == null ? "" : b.name;
        this.topK = b.topK;
        this.blockSize = b.blockSize;
        this.apeTemperature = b.apeTemperature;
        this.apeScale = b.apeScale;
        this.sinks = b.sinks;
        this.local = b.local;
        this.chunk = b.chunk;
        this.rope = b.rope == null ? "" : b.rope;
        this.ropeScale = b.ropeScale;
        this.reropeWindow = b.reropeWindow;
    }

    /** Parallel context windows: every window encoded once at the same positions, the question attending to all. */
    public static PcwMeshStrategy parallel() {
        return builder().name("parallel").build();
    }

    /** The {@code topK} windows the question attends to most, then parallel over them. */
    public static PcwMeshStrategy select(int topK) {
        return builder().name("select").topK(topK).build();
    }

    /** One causal stream (the exact baseline; the last tokens only when it does not fit). */
    public static PcwMeshStrategy sequential() {
        return builder().name("sequential").build();
    }

    /** A strategy by name with the generator's defaults: parallel, select, sequential, lambda or tokens. */
    public static PcwMeshStrategy named(String name) {
        return builder().name(name).build();
    }

    public String name() { return name; }

    /** select: windows kept; tokens: window keys each head attends to. */
    public int topK() { return topK; }

    /** tokens: keys chosen in blocks of this size. */
    public int blockSize() { return blockSize; }

    /** parallel: Adaptive Parallel Encoding temperature. */
    public float apeTemperature() { return apeTemperature; }

    /** parallel: Adaptive Parallel Encoding scale. */
    public float apeScale() { return apeScale; }

    /** lambda: sink tokens. */
    public int sinks() { return sinks; }

    /** lambda: recent tokens. */
    public int local() { return local; }

    /** lambda: chunk size. */
    public int chunk() { return chunk; }

    /** RoPE rescaling: file, linear, ntk, dynamic-ntk, yarn, llama3, truncated-basis, rerope, leaky-rerope. */
    public String rope() { return rope; }

    /** The rescaling's factor (target length / trained length). */
    public float ropeScale() { return ropeScale; }

    /** ReRoPE's window. */
    public int reropeWindow() { return reropeWindow; }

    /** The mesh's wire form. */
    StrategySpec toSpec() {
        return StrategySpec.newBuilder().setName(name).setTopK(topK).setBlockSize(blockSize)
                .setApeTemperature(apeTemperature).setApeScale(apeScale)
                .setSinks(sinks).setLocal(local).setChunk(chunk)
                .setRope(rope).setRopeScale(ropeScale).setReropeWindow(reropeWindow).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PcwMeshStrategy s && toSpec().equals(s.toSpec());
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, topK, blockSize, apeTemperature, apeScale, sinks, local, chunk, rope, ropeScale, reropeWindow);
    }

    @Override
    public String toString() {
        return "PcwMeshStrategy{" + toSpec().toString().strip().replace('\n', ' ') + "}";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link PcwMeshStrategy}; every parameter left unset is the generator's default. */
    public static final class Builder {
        private String name;
        private int topK;
        private int blockSize;
        private float apeTemperature;
        private float apeScale;
        private int sinks;
        private int local;
        private int chunk;
        private String rope;
        private float ropeScale;
        private int reropeWindow;

        private Builder() {}

        public Builder name(String name) { this.name = name; return this; }

        public Builder topK(int topK) { this.topK = topK; return this; }

        public Builder blockSize(int blockSize) { this.blockSize = blockSize; return this; }

        public Builder apeTemperature(float apeTemperature) { this.apeTemperature = apeTemperature; return this; }

        public Builder apeScale(float apeScale) { this.apeScale = apeScale; return this; }

        public Builder sinks(int sinks) { this.sinks = sinks; return this; }

        public Builder local(int local) { this.local = local; return this; }

        public Builder chunk(int chunk) { this.chunk = chunk; return this; }

        public Builder rope(String rope) { this.rope = rope; return this; }

        public Builder ropeScale(float ropeScale) { this.ropeScale = ropeScale; return this; }

        public Builder reropeWindow(int reropeWindow) { this.reropeWindow = reropeWindow; return this; }

        public PcwMeshStrategy build() {
            return new PcwMeshStrategy(this);
        }
    }
}
