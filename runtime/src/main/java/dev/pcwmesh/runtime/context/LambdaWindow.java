package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * The Λ-shaped window (LM-Infinite, Han et al. 2023; StreamingLLM, Xiao et al. 2023): of the
 * stream (prefix, then the document) only the first {@code sinks} tokens and the most recent ones
 * are kept; the middle is dropped. Kept tokens are placed contiguously from position 0, their
 * stored keys re-rotated to the new places, so the largest distance any query sees stays inside
 * the trained window.
 *
 * <p>The document is read in chunks of {@code chunk} tokens; each chunk attends to the sinks and
 * to at most {@code min(local, W - sinks - chunk)} recent tokens, W the trained window. The
 * question then sees the sinks and the last {@code min(local, W - sinks - question - answer)}
 * tokens. When everything fits, nothing is dropped and this is {@link Sequential} exactly.
 */
public final class LambdaWindow implements Strategy {
    private final int sinks;
    private final int local;
    private final int chunk;

    public LambdaWindow(int sinks, int local, int chunk) {
        if (sinks < 0) throw new IllegalArgumentException("sinks must be non-negative, got " + sinks);
        if (local < 1) throw new IllegalArgumentException("the local window must be at least 1 token, got " + local);
        if (chunk < 1) throw new IllegalArgumentException("the chunk must be at least 1 token, got " + chunk);
        this.sinks = sinks;
        this.local = local;
        this.chunk = chunk;
    }

    @Override public String name() { return "lambda"; }

    @Override
    public ContextPlan plan(Document document, int[] question, PlanRequest request) {
        Model model = request.model();
        SegmentSource segments = request.segments();
        PositionEncoding positions = request.positions();
        long tokensBefore = segments.tokensEncoded(), scoresBefore = segments.scoresComputed();
        int window = request.trainedWindow();
        int[] stream = concat(document.prefix(), document.concatenated());
        int chunkLength = Math.min(chunk, Math.max(1, window - sinks - 1));
        if (sinks + chunkLength >= window) {
            throw new IllegalArgumentException("sinks (" + sinks + ") and a chunk (" + chunkLength + ") leave no room in the trained window of " + window);
        }
        int answerRoom = window - Math.min(sinks, stream.length) - question.length - request.answerTokens();
        if (answerRoom < 0) {
            throw new IllegalArgumentException("the sinks, question and answer (" + (sinks + question.length + request.answerTokens())
                    + " tokens) exceed the trained window of " + window);
        }

        List<KvSegment> sinkPieces = new ArrayList<>();
        Deque<KvSegment> recent = new ArrayDeque<>();
        int sinkLength = 0;
        for (int from = 0; from < stream.length; from += chunkLength) {
            int[] tokens = Arrays.copyOfRange(stream, from, Math.min(stream.length, from + chunkLength));
            evict(recent, Math.min(local, window - sinks - tokens.length));
            ContextPlan context = place(model, positions, sinkPieces, recent).build();
            KvSegment encoded = segments.encode(positions, tokens, context.nextPosition(), context);
            int toSinks = Math.min(sinks - sinkLength, encoded.length());
            if (toSinks > 0) {
                sinkPieces.add(encoded.slice(0, toSinks));
                sinkLength += toSinks;
            }
            if (toSinks < encoded.length()) recent.addLast(encoded.slice(toSinks, encoded.length()));
        }
        evict(recent, Math.min(local, answerRoom));
        int kept = sinkLength + recent.stream().mapToInt(KvSegment::length).sum();
        int dropped = stream.length - kept;
        ContextPlan.Builder plan = place(model, positions, sinkPieces, recent);
        return plan.encoded(segments.tokensEncoded() - tokensBefore, segments.scoresComputed() - scoresBefore)
                .dropped(dropped)
                .note(dropped == 0 ? "" : "kept the first " + sinkLength + " and the last " + (kept - sinkLength) + " of "
                        + stream.length + " tokens")
                .build();
    }

    /** Drops the oldest recent tokens until at most {@code keep} remain. */
    private static void evict(Deque<KvSegment> recent, int keep) {
        int length = recent.stream().mapToInt(KvSegment::length).sum();
        while (length > Math.max(0, keep)) {
            KvSegment oldest = recent.removeFirst();
            int drop = Math.min(oldest.length(), length - Math.max(0, keep));
            if (drop < oldest.length()) recent.addFirst(oldest.slice(drop, oldest.length()));
            length -= drop;
        }
    }

    /** The sinks from position 0 and the recent tokens right after them, contiguously. */
    private static ContextPlan.Builder place(Model model, PositionEncoding positions, List<KvSegment> sinkPieces, Deque<KvSegment> recent) {
        ContextPlan.Builder plan = ContextPlan.builder(model, positions);
        int position = 0;
        for (KvSegment s : sinkPieces) {
            plan.place(s, position, ContextPlan.Role.PREFIX);
            position += s.length();
        }
        for (KvSegment s : recent) {
            plan.place(s, position, ContextPlan.Role.WINDOW);
            position += s.length();
        }
        return plan.nextPosition(position);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
