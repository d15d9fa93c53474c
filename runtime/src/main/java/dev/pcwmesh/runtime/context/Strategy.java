package dev.pcwmesh.runtime.context;

/**
 * A way of showing a long document to a model: turns the document's windows and a question into
 * a {@link ContextPlan}, which the question and the answer then attend to. Each strategy reduces
 * to {@link Sequential} (the exact baseline) when the whole document fits one window.
 */
public interface Strategy {

    /** The name users pick it by ({@code parallel}, {@code select}, ...). */
    String name();

    /** Builds the plan; the question will be processed at {@code plan.nextPosition()} onwards. */
    ContextPlan plan(Document document, int[] question, PlanRequest request);
}
