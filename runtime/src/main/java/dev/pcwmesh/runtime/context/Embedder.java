package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.Transformer;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;

import java.util.List;

/**
 * Text embeddings from a GGUF model (mean of its final normalised hidden states), for ranking
 * windows by cosine similarity to a question. The embedding model may differ from the answering
 * model: windows are decoded to text and re-tokenized with its own tokenizer.
 */
public final class Embedder {
    private final Model model;

    public Embedder(Model model) {
        this.model = model;
    }

    public Model model() { return model; }

    public float[] embed(String text) {
        Tokenizer tok = model.tokenizer();
        int[] ids = tok.encode(text, true, false);
        if (ids.length == 0) throw new IllegalArgumentException("nothing to embed: the text gives no tokens");
        int max = model.config().contextLength();
        if (ids.length > max) ids = java.util.Arrays.copyOf(ids, max);
        return new Transformer(model).embed(ids, ContextPlan.empty(model, 0).attention());
    }

    /** Cosine similarity of each window (token ids of {@code source}) to the question. */
    public double[] similarities(Tokenizer source, List<int[]> windows, int[] question) {
        float[] q = embed(source.decode(question));
        double[] out = new double[windows.size()];
        for (int i = 0; i < out.length; i++) out[i] = cosine(q, embed(source.decode(windows.get(i))));
        return out;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
