package dev.pcwmesh.eval.tasks;

import java.util.List;

/** One value to remember in a document of nothing else (Mohtashami and Jaggi's passkey retrieval). */
public final class PasskeyTask implements Task {
    @Override public TaskKind kind() { return TaskKind.PASSKEY; }

    @Override public Needles needles(Language language, Draws draws, double depth, int targetTokens) {
        DemoFacts.Asked key = language.passkey(draws);
        return new Needles(List.of(new Needles.Placed(key.fact(), depth)), key.question());
    }
}
