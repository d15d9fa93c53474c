package dev.pcwmesh.runtime.context;

/**
 * Token selection: windows placed as in {@link ParallelWindows}, and at each layer and head a new
 * token attends to the prefix, to the new tokens (the local window of recent tokens), and to the
 * {@code k} window keys with the largest q·k across all windows. With a block size above 1, keys
 * are chosen in blocks scored by their mean key, so far fewer scores are computed.
 */
public final class TokenSelection implements Strategy {
    private final WindowAttention rule;

    public TokenSelection(int k, int blockSize) {
        this.rule = WindowAttention.topK(k, blockSize);
    }

    @Override public String name() { return "tokens"; }

    @Override
    public ContextPlan plan(Document document, int[] question, PlanRequest request) {
        return new ParallelWindows(rule).plan(document, question, request);
    }
}
