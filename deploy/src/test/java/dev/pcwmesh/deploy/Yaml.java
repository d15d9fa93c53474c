package dev.pcwmesh.deploy;

import org.yaml.snakeyaml.LoaderOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** YAML through SnakeYAML (merge keys, several documents), and small typed accessors for nested maps. */
final class Yaml {

    private Yaml() {}

    private static org.yaml.snakeyaml.Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setCodePointLimit(16 * 1024 * 1024);
        return new org.yaml.snakeyaml.Yaml(options);
    }

    static Object load(String text) { return yaml().load(text); }

    static Map<String, Object> map(String text) { return asMap(load(text), "document"); }

    /** Every non-empty document of a stream. */
    static List<Map<String, Object>> documents(String text) {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object doc : yaml().loadAll(text)) if (doc != null) docs.add(asMap(doc, "document"));
        return docs;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object o, String what) {
        if (!(o instanceof Map)) throw new AssertionError(what + " is not a mapping: " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> asList(Object o, String what) {
        if (!(o instanceof List)) throw new AssertionError(what + " is not a list: " + o);
        return (List<Object>) o;
    }

    /** The value at a dotted path, or null when any step is missing. */
    static Object at(Object root, String path) {
        Object o = root;
        for (String step : path.split("\\.")) {
            if (!(o instanceof Map<?, ?> m) || !m.containsKey(step)) return null;
            o = m.get(step);
        }
        return o;
    }

    static Map<String, Object> mapAt(Object root, String path) { return asMap(require(root, path), path); }

    static List<Object> listAt(Object root, String path) { return asList(require(root, path), path); }

    static String stringAt(Object root, String path) { return String.valueOf(require(root, path)); }

    static Object require(Object root, String path) {
        Object o = at(root, path);
        if (o == null) throw new AssertionError("missing " + path);
        return o;
    }
}
