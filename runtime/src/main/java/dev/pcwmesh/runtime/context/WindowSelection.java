package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.kv.KvCache;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.ModelConfig;
import dev.pcwmesh.runtime.model.Transformer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.stream.IntStream;

/**
 * Window selection: score each window by its relevance to the question, keep the {@code k} best
 * in document order, and run {@link ParallelWindows} over them.
 *
 * <p>By default a window's score is the attention the question gives it: the question runs once
 * under the parallel plan of all windows, and the softmax mass its queries put on each window's
 * keys is summed over question tokens, heads and the chosen layers. With an {@link Embedder}
 * configured, the score is instead the cosine similarity of the window's and the question's
 * embeddings, and windows that are not kept are never encoded.
 */
public final class WindowSelection implements Strategy {
    private final int k;
    private final Set<Integer> layers;
    private final Embedder embedder;

    /**
     * @param k        windows to keep
     * @param layers   layers whose attention counts (empty: all)
     * @param embedder scores by embedding similarity instead of attention when not null
     */
    public WindowSelection(int k, Set<Integer> layers, Embedder embedder) {
        if (k < 1) throw new IllegalArgumentException("select needs k of at least 1, got " + k);
        this.k = k;
        this.layers = Set.copyOf(layers);
        this.embedder = embedder;
    }

    @Override public String name() { return "select"; }

    @Override
    public ContextPlan plan(Document document, int[] question, PlanRequest request) {
        int windows = document.windows().size();
        long tokensBefore = request.segments().tokensEncoded(), scoresBefore = request.segments().scoresComputed();
        Scores scores = score(document, question, request);
        List<Integer> chosen = IntStream.range(0, windows).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -scores.byWindow[i]).thenComparingInt(i -> i))
                .limit(k)
                .sorted()
                .toList();
        return ParallelWindows.place(document, chosen, question, request, WindowAttention.plain())
                .encoded(request.segments().tokensEncoded() - tokensBefore + scores.tokens,
                        request.segments().scoresComputed() - scoresBefore + scores.scores)
                .note("kept windows " + chosen + " of " + windows)
                .build();
    }

    /**
     * Each window's relevance to the question, by document order: its share of the attention the
     * question gives all windows (summing to 1), or with an embedder the cosine similarity of
     * their embeddings. The generator's {@code Rank} returns these.
     */
    public double[] scores(Document document, int[] question, PlanRequest request) {
        return score(document, question, request).byWindow;
    }

    /** Scores, and the question tokens prefilled and q·k scores computed to get them. */
    private record Scores(double[] byWindow, int tokens, long scores) { }

    private Scores score(Document document, int[] question, PlanRequest request) {
        int windows = document.windows().size();
        if (embedder != null) {
            return new Scores(embedder.similarities(request.model().tokenizer(), document.windows(), question), 0, 0);
        }
        ContextPlan all = ParallelWindows.place(document, IntStream.range(0, windows).boxed().toList(), question, request,
                WindowAttention.plain()).build();
        double[] mass = attentionMass(all, question, document.prefix().length > 0 ? 1 : 0, windows);
        double total = 0;
        for (double m : mass) total += m;
        for (int i = 0; i < windows && total > 0; i++) mass[i] /= total;
        return new Scores(mass, question.length, all.cost().answerScores());
    }

    /** The attention mass the question's queries give each window (blocks from {@code firstWindow} on). */
    private double[] attentionMass(ContextPlan all, int[] question, int firstWindow, int windows) {
        Model model = all.model();
        ModelConfig c = model.config();
        DoubleAdder[] mass = new DoubleAdder[windows];
        for (int i = 0; i < windows; i++) mass[i] = new DoubleAdder();
        AttentionProbe probe = (layer, token, head, block, m) -> {
            if (block >= firstWindow && (layers.isEmpty() || layers.contains(layer))) mass[block - firstWindow].add(m);
        };
        int[] positions = IntStream.range(0, question.length).map(i -> all.nextPosition() + i).toArray();
        KvCache live = new KvCache(c.layers(), c.kvDim(), question.length, all.needsRawKeys());
        new Transformer(model).forward(question, positions, all.attention(probe), live, question.length, (row, l) -> { });
        double[] scores = new double[windows];
        for (int i = 0; i < windows; i++) scores[i] = mass[i].sum();
        return scores;
    }

    /** Layers given as text ("0,2,4" or empty for all), checked against the model. */
    public static Set<Integer> parseLayers(String text, int modelLayers) {
        if (text == null || text.isBlank()) return Set.of();
        List<Integer> out = new ArrayList<>();
        for (String part : text.split(",")) {
            int l = Integer.parseInt(part.strip());
            if (l < 0 || l >= modelLayers) throw new IllegalArgumentException("layer " + l + " is outside the model's 0.." + (modelLayers - 1));
            out.add(l);
        }
        return Set.copyOf(out);
    }
}
