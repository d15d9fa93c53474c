package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.Model;

/**
 * What a strategy builds a plan with.
 *
 * @param positions     the position encoding (RoPE settings with any rescaling, optional ReRoPE)
 * @param segments      where encoded segments come from
 * @param trainedWindow the longest sequence the model was trained on (tokens)
 * @param answerTokens  room to keep for the answer (the most new tokens)
 */
public record PlanRequest(Model model, PositionEncoding positions, SegmentSource segments, int trainedWindow, int answerTokens) {

    public PlanRequest {
        if (trainedWindow < 1) throw new IllegalArgumentException("the trained window must be positive, got " + trainedWindow);
        if (answerTokens < 0) throw new IllegalArgumentException("answer tokens must be non-negative, got " + answerTokens);
    }

    /** In-process encoding under the model's own settings and trained window. */
    public static PlanRequest local(Model model, int answerTokens) {
        return new PlanRequest(model, PositionEncoding.of(model), new LocalSegments(model), model.config().contextLength(), answerTokens);
    }

    public PlanRequest withPositions(PositionEncoding positions) {
        return new PlanRequest(model, positions, segments, trainedWindow, answerTokens);
    }
}
