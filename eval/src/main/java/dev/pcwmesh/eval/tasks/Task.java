package dev.pcwmesh.eval.tasks;

/**
 * What one task hides in a document of a given length and asks about. The document around the
 * facts is filler, built by {@link SampleGenerator}.
 */
public interface Task {

    TaskKind kind();

    /**
     * @param depth        where the key fact goes, 0 (start) to 1 (end)
     * @param targetTokens the document's length, so that tasks with many facts can scale their number
     */
    Needles needles(Language language, Draws draws, double depth, int targetTokens);

    static Task of(TaskKind kind) {
        return switch (kind) {
            case PASSKEY -> new PasskeyTask();
            case NEEDLE -> new NeedleTask();
            case MULTI_KEY -> new MultiKeyTask();
            case MULTI_VALUE -> new MultiValueTask();
            case MULTI_QUERY -> new MultiQueryTask();
            case VARIABLE_TRACKING -> new VariableTrackingTask();
        };
    }

    /** Distractors for a document of {@code targetTokens}: about one per {@code tokensEach}, at least {@code least}, at most 100 (the held-out pools are small). */
    static int scaled(int targetTokens, int tokensEach, int least) {
        return Math.min(100, Math.max(least, targetTokens / tokensEach));
    }
}
