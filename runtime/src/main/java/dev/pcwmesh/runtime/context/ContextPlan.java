package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.kv.KvView;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.Rope;

import java.util.ArrayList;
import java.util.List;

/**
 * What new tokens attend to: an ordered list of KV segments, each placed at a position, and the
 * position of the first new token. Building the plan rotates every segment's stored (unrotated)
 * keys to where it is placed; the values are shared with the segment, not copied.
 *
 * <p>Token {@code j} of a segment placed at {@code p} sits at {@code p + positions[j] - positions[0]},
 * so a segment keeps its internal spacing wherever it goes.
 */
public final class ContextPlan {

    /** A segment and the position its first token is placed at. */
    public record Placement(KvSegment segment, int position) {
        public Placement {
            if (position < 0) throw new IllegalArgumentException("placement position must be non-negative, got " + position);
        }
    }

    /** A placed segment's keys rotated to their placed positions, with the segment's values. */
    record RotatedBlock(int length, float[][] keys, float[][] values) implements KvView {
        @Override public float[] keys(int layer) { return keys[layer]; }
        @Override public float[] values(int layer) { return values[layer]; }
    }

    private final List<Placement> placements;
    private final List<KvView> blocks;
    private final int nextPosition;

    private ContextPlan(List<Placement> placements, List<KvView> blocks, int nextPosition) {
        this.placements = List.copyOf(placements);
        this.blocks = List.copyOf(blocks);
        this.nextPosition = nextPosition;
    }

    /** A plan with nothing to attend to: plain generation starting at {@code nextPosition}. */
    public static ContextPlan empty(int nextPosition) {
        return new ContextPlan(List.of(), List.of(), nextPosition);
    }

    /**
     * Places the segments and rotates their keys. Every segment must come from this model
     * (same fingerprint); otherwise an {@link IllegalArgumentException} names the segment.
     */
    public static ContextPlan of(Model model, List<Placement> placements, int nextPosition) {
        ModelConfig c = model.config();
        Rope rope = model.rope();
        List<KvView> blocks = new ArrayList<>(placements.size());
        for (Placement p : placements) {
            KvSegment s = p.segment();
            if (!s.modelFingerprint().equals(model.fingerprint())) {
                throw new IllegalArgumentException("segment " + s.id() + " was encoded by a different model (fingerprint "
                        + s.modelFingerprint() + ", this model is " + model.fingerprint() + ")");
            }
            if (s.layers() != c.layers() || s.kvDim() != c.kvDim()) {
                throw new IllegalArgumentException("segment " + s.id() + " has " + s.layers() + " layers of width " + s.kvDim()
                        + ", the model " + c.layers() + " of width " + c.kvDim());
            }
            float[][] keys = new float[c.layers()][];
            for (int l = 0; l < c.layers(); l++) {
                float[] k = s.keys()[l].clone();
                for (int j = 0; j < s.length(); j++) {
                    int position = p.position() + s.positions()[j] - s.startPosition();
                    rope.rotate(k, j * c.kvDim(), c.kvHeads(), c.headDim(), position);
                }
                keys[l] = k;
            }
            blocks.add(new RotatedBlock(s.length(), keys, s.values()));
        }
        return new ContextPlan(placements, blocks, nextPosition);
    }

    public List<Placement> placements() { return placements; }

    /** The placed segments as attention blocks, in plan order. */
    public List<KvView> blocks() { return blocks; }

    /** Position of the first new token. */
    public int nextPosition() { return nextPosition; }

    /** Tokens the new tokens attend to besides themselves. */
    public int contextTokens() {
        int n = 0;
        for (KvView b : blocks) n += b.length();
        return n;
    }
}
