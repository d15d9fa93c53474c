package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.kv.SegmentIds;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.ForwardPass;

import java.util.Arrays;
import java.util.HexFormat;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;

/**
 * Encoding (prefill) of a run of tokens into a {@link KvSegment}: the tokens sit at consecutive
 * positions from {@code startPosition}, attend causally to themselves and to a context plan (for
 * a window, the shared prefix placed where it was encoded).
 *
 * <p>Counts what it has done ({@link #tokensEncoded()}, {@link #scoresComputed()}), so that a
 * strategy can report its cost. Not thread-safe.
 */
public final class Encoder {
    private final Model model;
    private final PositionEncoding encoding;
    private final ForwardPass transformer;
    private long tokensEncoded;
    private long scoresComputed;

    /** An encoder under the model's own position encoding. */
    public Encoder(Model model) {
        this(model, PositionEncoding.of(model));
    }

    public Encoder(Model model, PositionEncoding encoding) {
        this.model = model;
        this.encoding = encoding;
        this.transformer = ForwardPass.of(model);
    }

    public Model model() { return model; }
    public PositionEncoding encoding() { return encoding; }

    public KvSegment encode(int[] tokens, int startPosition) {
        return encode(tokens, startPosition, (KvSegment) null);
    }

    /** Encodes after {@code prefix} placed where it was encoded (none when null). */
    public KvSegment encode(int[] tokens, int startPosition, KvSegment prefix) {
        ContextPlan.Builder context = ContextPlan.builder(model, encoding).nextPosition(startPosition);
        if (prefix != null) context.place(prefix, prefix.startPosition(), ContextPlan.Role.PREFIX);
        return encode(tokens, startPosition, context.build());
    }

    /** Encodes attending to {@code context}, which must use this encoder's position encoding. */
    public KvSegment encode(int[] tokens, int startPosition, ContextPlan context) {
        if (tokens.length == 0) throw new IllegalArgumentException("nothing to encode: no tokens");
        if (startPosition < 0) throw new IllegalArgumentException("start position must be non-negative, got " + startPosition);
        if (!context.encoding().equals(encoding)) {
            throw new IllegalArgumentException("the context plan uses positions '" + context.encoding().describe()
                    + "', this encoder '" + encoding.describe() + "'");
        }
        ModelConfig c = model.config();
        KvCache live = new KvCache(c.layers(), c.kvDim(), tokens.length, true);
        int[] positions = new int[tokens.length];
        for (int i = 0; i < positions.length; i++) positions[i] = startPosition + i;
        long before = context.cost().answerScores();
        transformer.forward(tokens, positions, context.attention(), live, tokens.length, (row, logits) -> { });
        tokensEncoded += tokens.length;
        scoresComputed += context.cost().answerScores() - before;

        int rows = tokens.length * c.kvDim();
        float[][] keys = new float[c.layers()][];
        float[][] values = new float[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            keys[l] = Arrays.copyOf(live.rawKeys(l), rows);
            values[l] = Arrays.copyOf(live.values(l), rows);
        }
        String contextId = contextId(context);
        return new KvSegment(id(tokens, startPosition, context), model.fingerprint(), encoding.describe(), contextId, c.kvDim(),
                tokens.clone(), positions, keys, values);
    }

    /** The content id {@link #encode} gives these tokens, known before encoding them. */
    public String id(int[] tokens, int startPosition, ContextPlan context) {
        return SegmentIds.of(model.fingerprint(), encoding.describe(), contextId(context), startPosition, tokens);
    }

    /**
     * What a segment attended to while encoding, as part of its id: nothing (null), the prefix's
     * id when that is all and it sits where it was encoded, or a hash of every placement.
     */
    static String contextId(ContextPlan context) {
        var placements = context.placements();
        if (placements.isEmpty()) return null;
        if (placements.size() == 1 && placements.getFirst().position() == placements.getFirst().segment().startPosition()) {
            return placements.getFirst().segment().id();
        }
        MessageDigest sha = SegmentIds.sha256();
        for (ContextPlan.Placement p : placements) {
            sha.update((p.segment().id() + "@" + p.position() + ";").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Tokens run through the model so far. */
    public long tokensEncoded() { return tokensEncoded; }

    /** q·k scores computed so far. */
    public long scoresComputed() { return scoresComputed; }
}
