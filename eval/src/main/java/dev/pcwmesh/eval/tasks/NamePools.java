package dev.pcwmesh.eval.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The demo corpus's names and values ({@code models/demo/names.json}, bundled at build time), one
 * split of them: {@code heldout}, which the model and its tokenizer never saw in training and which
 * every task draws from, or {@code train}, which tests use to check that no task leaks a training name.
 */
public final class NamePools {
    private static final String RESOURCE = "names.json";

    private final JsonNode pools;
    private final String split;
    private final List<String> vehicles, items, months;

    private NamePools(JsonNode root, String split) {
        this.pools = root.required("pools");
        this.split = split;
        this.vehicles = strings(root.required("vehicles"));
        this.items = strings(root.required("items"));
        this.months = strings(root.required("months"));
    }

    /** The names and values held out of training: what every task uses. */
    public static NamePools heldOut() {
        return new NamePools(read(), "heldout");
    }

    /** The names and values the model was trained on: tasks must never use them. */
    public static NamePools training() {
        return new NamePools(read(), "train");
    }

    private static JsonNode read() {
        try (InputStream in = NamePools.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the classpath (it is copied from models/demo/ at build time)");
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    private List<String> pool(String kind) {
        return strings(pools.required(kind).required(split));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return List.copyOf(out);
    }

    public List<String> firstNames() { return pool("first_names"); }
    public List<String> surnames() { return pool("surnames"); }
    public List<String> places() { return pool("places"); }
    public List<String> professions() { return pool("professions"); }
    public List<String> codePrefixes() { return pool("code_prefixes"); }
    public List<String> times() { return pool("times"); }
    public List<String> years() { return pool("years"); }
    public List<String> quantities() { return pool("quantities"); }

    /** Relation vocabulary, the same in both splits. */
    public List<String> vehicles() { return vehicles; }
    public List<String> items() { return items; }
    public List<String> months() { return months; }

    /** Every entity name of this split: first names, surnames and places. */
    public Set<String> entityNames() {
        Set<String> out = new HashSet<>(firstNames());
        out.addAll(surnames());
        out.addAll(places());
        return out;
    }
}
