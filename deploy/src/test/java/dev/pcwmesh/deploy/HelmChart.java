package dev.pcwmesh.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** The pcw-mesh chart rendered by Helm's own engine (helm template), as parsed Kubernetes objects. */
final class HelmChart {

    static final Path CHART = Repository.path("deploy/helm/pcw-mesh");
    static final String RELEASE = "pcw";
    static final String NAMESPACE = "mesh";
    static final String FULLNAME = "pcw-pcw-mesh";

    private HelmChart() {}

    /** The manifests of `helm template pcw deploy/helm/pcw-mesh -n mesh --set k=v ...` (Kubernetes 1.33). */
    static Rendered render(Map<String, Object> set) {
        TemplateCommand template = new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion("v1.33.0");
        set.forEach(template::set);
        String text = template.call();
        List<Map<String, Object>> objects = new ArrayList<>();
        for (Map<String, Object> doc : Yaml.documents(text)) objects.add(doc);
        return new Rendered(text, objects);
    }

    static Rendered render() { return render(Map.of()); }

    static Map<String, Object> sets(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) m.put((String) keyValues[i], keyValues[i + 1]);
        return m;
    }

    record Rendered(String text, List<Map<String, Object>> objects) {

        List<Map<String, Object>> ofKind(String kind) {
            return objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        }

        Map<String, Object> get(String kind, String name) {
            return find(kind, name).orElseThrow(() -> new AssertionError("no " + kind + " " + name + " rendered; rendered: " + names()));
        }

        java.util.Optional<Map<String, Object>> find(String kind, String name) {
            return objects.stream().filter(o -> kind.equals(o.get("kind")) && name.equals(Yaml.at(o, "metadata.name"))).findFirst();
        }

        List<String> names() {
            return objects.stream().map(o -> o.get("kind") + "/" + Yaml.at(o, "metadata.name")).toList();
        }

        /** The workload (Deployment or StatefulSet) of a service. */
        Map<String, Object> workload(String service) {
            return find("Deployment", FULLNAME + "-" + service).or(() -> find("StatefulSet", FULLNAME + "-" + service))
                    .orElseThrow(() -> new AssertionError("no workload for " + service));
        }

        Map<String, Object> container(String service) {
            List<Object> containers = Yaml.listAt(workload(service), "spec.template.spec.containers");
            if (containers.size() != 1) throw new AssertionError(service + ": one container expected");
            return Yaml.asMap(containers.getFirst(), "container");
        }

        /** The environment of a service's container: literal values, fieldRef paths as "fieldRef:<path>", Secret keys as "secretKeyRef:<secret>/<key>". */
        Map<String, String> env(String service) {
            Map<String, String> env = new LinkedHashMap<>();
            for (Object e : Yaml.listAt(container(service), "env")) {
                Map<String, Object> var = Yaml.asMap(e, "env");
                String name = String.valueOf(var.get("name"));
                if (env.containsKey(name)) throw new AssertionError(service + ": " + name + " twice");
                if (var.containsKey("value")) env.put(name, String.valueOf(var.get("value")));
                else if (Yaml.at(var, "valueFrom.secretKeyRef") != null)
                    env.put(name, "secretKeyRef:" + Yaml.at(var, "valueFrom.secretKeyRef.name") + "/" + Yaml.at(var, "valueFrom.secretKeyRef.key"));
                else env.put(name, "fieldRef:" + Yaml.at(var, "valueFrom.fieldRef.fieldPath"));
            }
            return env;
        }

        /** The config/application.properties a service's ConfigMap holds. */
        Properties properties(String service) {
            Object text = Yaml.mapAt(get("ConfigMap", FULLNAME + "-" + service), "data").get("application.properties");
            if (text == null) throw new AssertionError(service + "'s ConfigMap has no application.properties");
            Properties p = new Properties();
            try {
                p.load(new java.io.StringReader(String.valueOf(text)));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return p;
        }
    }
}
