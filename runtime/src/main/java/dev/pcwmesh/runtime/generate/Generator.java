package dev.pcwmesh.runtime.generate;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Attention;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.ForwardPass;
import dev.pcwmesh.runtime.tokenizer.StreamingDecoder;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Generation under a plan: the prompt is prefilled at positions from the plan's next position,
 * attending to every segment the plan places, then tokens are decoded one at a time and streamed.
 */
public final class Generator {
    private final Model model;
    private final Tokenizer tokenizer;

    public Generator(Model model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Plain generation: the prompt alone from position 0. */
    public GenerationResult generate(int[] prompt, SamplingParams params, TokenListener listener) {
        return generate(ContextPlan.empty(model, 0), prompt, params, listener);
    }

    public GenerationResult generate(ContextPlan plan, int[] prompt, SamplingParams params, TokenListener listener) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty: at least one token is needed to predict the next");
        long start = System.nanoTime();
        try (ForwardPass transformer = ForwardPass.of(model)) {
            return generate(transformer, plan, prompt, params, listener, start);
        }
    }

    private GenerationResult generate(ForwardPass transformer, ContextPlan plan, int[] prompt, SamplingParams params,
                                      TokenListener listener, long start) {
        ModelConfig c = model.config();
        KvCache live = new KvCache(c.layers(), c.kvDim(), prompt.length + params.maxTokens(), plan.needsRawKeys());
        Attention attention = plan.attention();
        Sampler sampler = new Sampler(params, c.vocabSize());
        for (int t : prompt) sampler.accept(t);
        float[] logits = new float[c.vocabSize()];
        ForwardPass.LogitsSink keep = (row, l) -> System.arraycopy(l, 0, logits, 0, l.length);

        int position = plan.nextPosition();
        int[] positions = new int[prompt.length];
        for (int i = 0; i < prompt.length; i++) positions[i] = position++;
        transformer.forward(prompt, positions, attention, live, prompt.length - 1, keep);

        StreamingDecoder decoder = new StreamingDecoder(tokenizer);
        StopStrings stops = new StopStrings(params.stopStrings());
        int[] generated = new int[params.maxTokens()];
        int count = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        long firstToken = 0;
        int[] one = new int[1];
        int[] onePosition = new int[1];
        while (count < params.maxTokens()) {
            int token = sampler.sample(logits);
            if (count == 0) firstToken = System.nanoTime();
            if (params.stopAtEndOfGeneration() && tokenizer.isEndOfGeneration(token)) {
                reason = StopReason.END_OF_GENERATION;
                break;
            }
            generated[count++] = token;
            sampler.accept(token);
            String released = stops.push(decoder.push(token));
            listener.onToken(token, released);
            if (stops.stopped()) {
                reason = StopReason.STOP_STRING;
                break;
            }
            if (count == params.maxTokens()) break;
            one[0] = token;
            onePosition[0] = position++;
            transformer.forward(one, onePosition, attention, live, 0, keep);
        }
        if (!stops.stopped()) {
            String rest = stops.push(decoder.flush()) + stops.finish();
            if (!rest.isEmpty()) listener.onToken(-1, rest);
        }
        long end = System.nanoTime();
        if (firstToken == 0) firstToken = end;
        return new GenerationResult(Arrays.copyOf(generated, count), stops.text(), reason, prompt.length,
                plan.contextTokens(), firstToken - start, end - firstToken);
    }
}
