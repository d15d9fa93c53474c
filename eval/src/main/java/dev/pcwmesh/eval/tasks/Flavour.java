package dev.pcwmesh.eval.tasks;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The two ways of writing the tasks. */
public enum Flavour {
    /** The demo model's own document language (models/demo/data.py). */
    DEMO("demo"),
    /** Natural-language instructions in the style of NVIDIA's RULER, for instruction-tuned models. */
    RULER("ruler");

    private final String id;

    Flavour(String id) {
        this.id = id;
    }

    public String id() { return id; }

    public Language language() {
        return switch (this) {
            case DEMO -> new DemoLanguage();
            case RULER -> new RulerLanguage();
        };
    }

    public static Flavour byName(String name) {
        return Arrays.stream(values()).filter(f -> f.id.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown flavour '" + name + "'; one of: "
                        + Arrays.stream(values()).map(Flavour::id).collect(Collectors.joining(", "))));
    }

    @Override public String toString() { return id; }
}
