package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Model;

/**
 * Where a strategy gets encoded segments: in process ({@link LocalSegments}), or in the mesh from
 * the encoder services, which return a cached segment when its content id is known. It counts
 * the encoding it really did, so that a plan can report its cost.
 */
public interface SegmentSource {

    /**
     * The segment of {@code tokens} at consecutive positions from {@code startPosition} under
     * {@code positions}, attending to {@code context} (a plan under the same position encoding).
     */
    KvSegment encode(PositionEncoding positions, int[] tokens, int startPosition, ContextPlan context);

    /**
     * The shared prefix encoded from position 0 and placed there: the context every window is
     * encoded after (a plan with nothing placed when the prefix is empty).
     */
    default ContextPlan encodePrefix(Model model, PositionEncoding positions, int[] prefix) {
        ContextPlan.Builder context = ContextPlan.builder(model, positions).nextPosition(prefix.length);
        if (prefix.length > 0) {
            context.place(encode(positions, prefix, 0, ContextPlan.builder(model, positions).build()), 0, ContextPlan.Role.PREFIX);
        }
        return context.build();
    }

    /** Tokens run through the model so far. */
    long tokensEncoded();

    /** q·k scores computed so far. */
    long scoresComputed();
}
