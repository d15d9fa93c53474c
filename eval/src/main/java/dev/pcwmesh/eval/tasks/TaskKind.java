package dev.pcwmesh.eval.tasks;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The tasks, by the names users pick them with. */
public enum TaskKind {
    PASSKEY("passkey"),
    NEEDLE("needle"),
    MULTI_KEY("multi-key"),
    MULTI_VALUE("multi-value"),
    MULTI_QUERY("multi-query"),
    VARIABLE_TRACKING("variable-tracking");

    private final String id;

    TaskKind(String id) {
        this.id = id;
    }

    public String id() { return id; }

    public static TaskKind byName(String name) {
        return Arrays.stream(values()).filter(t -> t.id.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown task '" + name + "'; one of: " + names()));
    }

    public static String names() {
        return Arrays.stream(values()).map(TaskKind::id).collect(Collectors.joining(", "));
    }

    @Override public String toString() { return id; }
}
