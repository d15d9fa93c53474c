package dev.pcwmesh.deploy;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** values.schema.json, validated with networknt's JSON Schema validator under the draft it declares (draft-07). */
record ValuesSchema(Map<String, Object> json, Schema schema) {

    static ValuesSchema load() {
        String text = Repository.read(HelmChart.CHART.resolve("values.schema.json"));
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7).getSchema(text, InputFormat.JSON);
        return new ValuesSchema(Yaml.map(text), schema);
    }

    String declaredDialect() { return String.valueOf(json.get("$schema")); }

    /** The validation errors of a values tree (empty when valid). */
    List<String> validate(Map<String, Object> values) {
        String yaml = new org.yaml.snakeyaml.Yaml().dump(values);
        return schema.validate(yaml, InputFormat.YAML).stream().map(Error::toString).toList();
    }

    /** The leaves of properties.<service>.properties.config as pcw.* keys, with their JSON types. */
    Map<String, String> configLeaves(String service) {
        Map<String, String> leaves = new LinkedHashMap<>();
        collect("pcw", Yaml.mapAt(json, "properties." + service + ".properties.config"), leaves);
        return leaves;
    }

    private static void collect(String prefix, Map<String, Object> node, Map<String, String> out) {
        if ("object".equals(node.get("type"))) {
            if (!Boolean.FALSE.equals(node.get("additionalProperties"))) throw new AssertionError(prefix + " accepts any key: a typo would pass");
            Yaml.mapAt(node, "properties").forEach((k, v) -> collect(prefix + "." + k, Yaml.asMap(v, k), out));
        } else {
            out.put(prefix, String.valueOf(node.get("type")));
        }
    }

    /** values with override merged in (maps merged key by key, anything else replaced). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> merge(Map<String, Object> values, Map<String, Object> override) {
        Map<String, Object> result = new LinkedHashMap<>(values);
        override.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m && result.get(k) instanceof Map<?, ?> existing) {
                result.put(k, merge((Map<String, Object>) existing, (Map<String, Object>) m));
            } else {
                result.put(k, v);
            }
        });
        return result;
    }
}
