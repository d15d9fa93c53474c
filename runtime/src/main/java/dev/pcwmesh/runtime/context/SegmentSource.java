package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvSegment;

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

    /** Tokens run through the model so far. */
    long tokensEncoded();

    /** q·k scores computed so far. */
    long scoresComputed();
}
