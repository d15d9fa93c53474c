package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.Rope;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * What new tokens attend to: an ordered list of KV segments, each placed at a position in the
 * role of prefix (always attended in full) or window (subject to the plan's
 * {@link WindowAttention}), the position of the first new token, and the position encoding all
 * of it shares. Building the plan rotates every segment's stored (unrotated) keys to where it is
 * placed; the values are shared with the segment, not copied.
 *
 * <p>Token {@code j} of a segment placed at {@code p} sits at {@code p + positions[j] - positions[0]},
 * so a segment keeps its internal spacing wherever it goes.
 *
 * <p>A plan counts what it costs: the encoding its strategy reported, and every q·k score the new
 * tokens compute under it.
 */
public final class ContextPlan {

    public enum Role { PREFIX, WINDOW }

    /** A segment, the position its first token is placed at, and its role. */
    public record Placement(KvSegment segment, int position, Role role) {
        public Placement {
            if (position < 0) throw new IllegalArgumentException("placement position must be non-negative, got " + position);
        }

        /** A segment attended to in full. */
        public Placement(KvSegment segment, int position) {
            this(segment, position, Role.PREFIX);
        }
    }

    /**
     * A placed segment: keys rotated to their placed positions, the segment's values, and what
     * the plan's rules need besides (ReRoPE's second rotation, top-k's block representatives).
     */
    record Block(Role role, int[] positions, float[][] keys, float[][] values, float[][] farKeys, float[][] representatives) {
        int length() { return positions.length; }
        float[] keys(int layer) { return keys[layer]; }
        float[] values(int layer) { return values[layer]; }
    }

    private final Model model;
    private final PositionEncoding encoding;
    private final Rope rope;
    private final WindowAttention windowAttention;
    private final List<Placement> placements;
    private final List<Block> blocks;
    private final int nextPosition;
    private final long tokensEncoded;
    private final long encodeScores;
    private final String note;
    private final int droppedTokens;
    private final LongAdder answerScores = new LongAdder();

    private ContextPlan(Builder b, List<Block> blocks, Rope rope) {
        this.model = b.model;
        this.encoding = b.encoding;
        this.rope = rope;
        this.windowAttention = b.windowAttention;
        this.placements = List.copyOf(b.placements);
        this.blocks = List.copyOf(blocks);
        this.nextPosition = b.nextPosition;
        this.tokensEncoded = b.tokensEncoded;
        this.encodeScores = b.encodeScores;
        this.note = b.note;
        this.droppedTokens = b.droppedTokens;
    }

    public static Builder builder(Model model, PositionEncoding encoding) {
        return new Builder(model, encoding);
    }

    /** A plan with nothing to attend to: plain generation starting at {@code nextPosition}, as the model file says. */
    public static ContextPlan empty(Model model, int nextPosition) {
        return builder(model, PositionEncoding.of(model)).nextPosition(nextPosition).build();
    }

    /** Places the segments (all attended in full) under the model's own position encoding. */
    public static ContextPlan of(Model model, List<Placement> placements, int nextPosition) {
        Builder b = builder(model, PositionEncoding.of(model)).nextPosition(nextPosition);
        for (Placement p : placements) b.place(p.segment(), p.position(), p.role());
        return b.build();
    }

    public static final class Builder {
        private final Model model;
        private final PositionEncoding encoding;
        private final List<Placement> placements = new ArrayList<>();
        private WindowAttention windowAttention = WindowAttention.plain();
        private int nextPosition;
        private long tokensEncoded;
        private long encodeScores;
        private String note = "";
        private int droppedTokens;

        private Builder(Model model, PositionEncoding encoding) {
            this.model = model;
            this.encoding = encoding;
        }

        public Builder place(KvSegment segment, int position, Role role) {
            placements.add(new Placement(segment, position, role));
            return this;
        }

        /** Places everything {@code other} places, where it places it. */
        public Builder placeAll(ContextPlan other) {
            for (Placement p : other.placements()) place(p.segment(), p.position(), p.role());
            return this;
        }

        public Builder windowAttention(WindowAttention rule) {
            this.windowAttention = rule;
            return this;
        }

        public Builder nextPosition(int position) {
            this.nextPosition = position;
            return this;
        }

        /** What encoding the segments cost the strategy (tokens run through the model, q·k scores). */
        public Builder encoded(long tokens, long scores) {
            this.tokensEncoded = tokens;
            this.encodeScores = scores;
            return this;
        }

        /** A remark for the user, such as a truncation. */
        public Builder note(String note) {
            this.note = note;
            return this;
        }

        /** Document tokens the plan leaves out (truncated, evicted or in windows not selected). */
        public Builder dropped(int tokens) {
            this.droppedTokens = tokens;
            return this;
        }

        /**
         * Rotates every segment's keys to its place. Every segment must come from this model
         * (same fingerprint) and position encoding; otherwise an {@link IllegalArgumentException}
         * names the segment.
         */
        public ContextPlan build() {
            if (windowAttention.topK() != null && encoding.rerope() != null) {
                throw new IllegalArgumentException("token selection scores keys by their ordinary rotation; it cannot be combined with ReRoPE");
            }
            ModelConfig c = model.config();
            Rope rope = encoding.newRope();
            ReRope rerope = encoding.rerope();
            List<Block> blocks = new ArrayList<>(placements.size());
            for (Placement p : placements) {
                KvSegment s = p.segment();
                check(s);
                int[] positions = new int[s.length()];
                for (int j = 0; j < positions.length; j++) positions[j] = p.position() + s.positions()[j] - s.startPosition();
                float[][] keys = rotated(s, positions, rope, null);
                float[][] far = rerope == null ? null : rotated(s, positions, rope, rerope);
                float[][] reps = p.role() == Role.WINDOW && windowAttention.topK() != null && windowAttention.topK().blockSize() > 1
                        ? representatives(keys, s.length(), c.kvDim(), windowAttention.topK().blockSize()) : null;
                blocks.add(new Block(p.role(), positions, keys, s.values(), far, reps));
            }
            return new ContextPlan(this, blocks, rope);
        }

        private void check(KvSegment s) {
            ModelConfig c = model.config();
            if (!s.modelFingerprint().equals(model.fingerprint())) {
                throw new IllegalArgumentException("segment " + s.id() + " was encoded by a different model (fingerprint "
                        + s.modelFingerprint() + ", this model is " + model.fingerprint() + ")");
            }
            if (s.layers() != c.layers() || s.kvDim() != c.kvDim()) {
                throw new IllegalArgumentException("segment " + s.id() + " has " + s.layers() + " layers of width " + s.kvDim()
                        + ", the model " + c.layers() + " of width " + c.kvDim());
            }
            if (!s.ropeSettings().equals(encoding.describe())) {
                throw new IllegalArgumentException("segment " + s.id() + " was encoded with positions '" + s.ropeSettings()
                        + "', this plan uses '" + encoding.describe() + "'");
            }
        }

        /** The segment's raw keys rotated to {@code positions} (ReRoPE's far rotation when {@code far} is set). */
        private float[][] rotated(KvSegment s, int[] positions, Rope rope, ReRope far) {
            ModelConfig c = model.config();
            float[][] keys = new float[c.layers()][];
            for (int l = 0; l < c.layers(); l++) {
                float[] k = s.keys()[l].clone();
                for (int j = 0; j < positions.length; j++) {
                    if (far == null) rope.rotate(k, j * c.kvDim(), c.kvHeads(), c.headDim(), positions[j]);
                    else rope.rotate(k, j * c.kvDim(), c.kvHeads(), c.headDim(), far.farKeyPosition(positions[j]));
                }
                keys[l] = k;
            }
            return keys;
        }

        /** Per layer, the mean rotated key of each run of {@code blockSize} tokens. */
        private static float[][] representatives(float[][] keys, int length, int kvDim, int blockSize) {
            int groups = (length + blockSize - 1) / blockSize;
            float[][] reps = new float[keys.length][groups * kvDim];
            for (int l = 0; l < keys.length; l++) {
                for (int g = 0; g < groups; g++) {
                    int from = g * blockSize, to = Math.min(length, from + blockSize);
                    for (int j = from; j < to; j++) {
                        for (int d = 0; d < kvDim; d++) reps[l][g * kvDim + d] += keys[l][j * kvDim + d];
                    }
                    for (int d = 0; d < kvDim; d++) reps[l][g * kvDim + d] /= (to - from);
                }
            }
            return reps;
        }
    }

    /** The attention of new tokens under this plan. */
    public Attention attention() {
        return new PlanAttention(this, model.config(), null);
    }

    /** The same, telling {@code probe} each block's share of every head's attention. */
    public Attention attention(AttentionProbe probe) {
        return new PlanAttention(this, model.config(), probe);
    }

    public Model model() { return model; }
    public PositionEncoding encoding() { return encoding; }
    Rope rope() { return rope; }
    public WindowAttention windowAttention() { return windowAttention; }
    public List<Placement> placements() { return placements; }
    List<Block> blocks() { return blocks; }

    /** The placed keys (rotated to their placements) of a layer, block after block: what a device backend uploads. */
    public float[] contextKeys(int layer) {
        return concatenate(layer, true);
    }

    /** The placed values of a layer, block after block. */
    public float[] contextValues(int layer) {
        return concatenate(layer, false);
    }

    /** For each placed key, block after block, whether it belongs to a window (APE rescales those). */
    public boolean[] windowKeys() {
        boolean[] w = new boolean[contextTokens()];
        int i = 0;
        for (Block b : blocks) {
            if (b.role() == Role.WINDOW) java.util.Arrays.fill(w, i, i + b.length(), true);
            i += b.length();
        }
        return w;
    }

    private float[] concatenate(int layer, boolean keys) {
        int kvDim = model.config().kvDim();
        float[] out = new float[contextTokens() * kvDim];
        int i = 0;
        for (Block b : blocks) {
            System.arraycopy(keys ? b.keys(layer) : b.values(layer), 0, out, i, b.length() * kvDim);
            i += b.length() * kvDim;
        }
        return out;
    }

    /** Position of the first new token. */
    public int nextPosition() { return nextPosition; }

    /** A remark on how the plan was made (for instance a truncation), or empty. */
    public String note() { return note; }

    /** Document tokens the plan leaves out; 0 when the new tokens see the whole document. */
    public int droppedTokens() { return droppedTokens; }

    /** Whether live caches under this plan must keep raw keys (ReRoPE rotates them twice). */
    public boolean needsRawKeys() { return encoding.rerope() != null; }

    /** Tokens of the placed segments. */
    public int contextTokens() {
        int n = 0;
        for (Block b : blocks) n += b.length();
        return n;
    }

    void countScores(long n) { answerScores.add(n); }

    /** What the plan has cost so far. */
    public PlanCost cost() {
        long kvBytes = 0;
        int windows = 0, prefixTokens = 0, windowTokens = 0;
        for (Placement p : placements) {
            kvBytes += p.segment().byteSize();
            if (p.role() == Role.WINDOW) {
                windows++;
                windowTokens += p.segment().length();
            } else {
                prefixTokens += p.segment().length();
            }
        }
        WindowAttention.TopK topK = windowAttention.topK();
        int attendedWindowTokens = topK == null ? windowTokens : Math.min(windowTokens, selectedKeys(topK, windowTokens));
        return new PlanCost(windows, tokensEncoded, encodeScores, kvBytes, prefixTokens + attendedWindowTokens, answerScores.sum());
    }

    /** The most window keys one head attends to under top-k (blocks are taken whole until k keys are covered). */
    private static int selectedKeys(WindowAttention.TopK topK, int windowTokens) {
        return (int) Math.min(windowTokens, (long) topK.k() + topK.blockSize() - 1);
    }
}
