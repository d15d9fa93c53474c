package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.kv.SegmentIds;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.Transformer;

import java.util.Arrays;
import java.util.List;

/**
 * Encoding (prefill) of a run of tokens into a {@link KvSegment}: the tokens sit at consecutive
 * positions from {@code startPosition}, attend causally to themselves and to an optional prefix
 * segment placed where it was encoded.
 */
public final class Encoder {
    private final Model model;
    private final Transformer transformer;

    public Encoder(Model model) {
        this.model = model;
        this.transformer = new Transformer(model);
    }

    public KvSegment encode(int[] tokens, int startPosition) {
        return encode(tokens, startPosition, null);
    }

    public KvSegment encode(int[] tokens, int startPosition, KvSegment prefix) {
        if (tokens.length == 0) throw new IllegalArgumentException("nothing to encode: no tokens");
        if (startPosition < 0) throw new IllegalArgumentException("start position must be non-negative, got " + startPosition);
        ModelConfig c = model.config();
        ContextPlan context = prefix == null
                ? ContextPlan.empty(startPosition)
                : ContextPlan.of(model, List.of(new ContextPlan.Placement(prefix, prefix.startPosition())), startPosition);
        KvCache live = new KvCache(c.layers(), c.kvDim(), tokens.length, true);
        int[] positions = new int[tokens.length];
        for (int i = 0; i < positions.length; i++) positions[i] = startPosition + i;
        transformer.forward(tokens, positions, context.blocks(), live, tokens.length, (row, logits) -> { });

        int rows = tokens.length * c.kvDim();
        float[][] keys = new float[c.layers()][];
        float[][] values = new float[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            keys[l] = Arrays.copyOf(live.rawKeys(l), rows);
            values[l] = Arrays.copyOf(live.values(l), rows);
        }
        String ropeSettings = c.rope().describe();
        String prefixId = prefix == null ? null : prefix.id();
        String id = SegmentIds.of(model.fingerprint(), ropeSettings, prefixId, startPosition, tokens);
        return new KvSegment(id, model.fingerprint(), ropeSettings, prefixId, c.kvDim(), tokens.clone(), positions, keys, values);
    }
}
