package dev.pcwmesh.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every YAML file under deploy/ parses (strictly: duplicate keys are errors). The Helm chart's
 * templates are Go templates, not YAML: HelmChartTest renders them with Helm's engine and parses what
 * comes out. values.schema.json parses as JSON too.
 */
class YamlFilesTest {

    static List<Path> yamlFiles() throws IOException {
        Path deploy = Repository.path("deploy");
        try (Stream<Path> s = Files.walk(deploy)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml") || p.toString().endsWith(".json"))
                    .filter(p -> !deploy.relativize(p).startsWith("target"))
                    .filter(p -> !p.getParent().getFileName().toString().equals("templates"))
                    .sorted().toList();
        }
    }

    @Test
    void everyYamlFileUnderDeployParses() throws IOException {
        List<Path> files = yamlFiles();
        List<String> names = files.stream().map(p -> Repository.path("deploy").relativize(p).toString()).toList();
        assertTrue(names.containsAll(List.of("compose/docker-compose.yml", "compose/docker-compose.gpu.yml", "compose/prometheus.yml",
                "helm/pcw-mesh/Chart.yaml", "helm/pcw-mesh/values.yaml", "helm/pcw-mesh/values.schema.json")), "found " + names);
        for (Path file : files) {
            List<?> docs;
            try {
                docs = Yaml.documents(Repository.read(file));
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError(file + " does not parse: " + e.getMessage(), e);
            }
            assertFalse(docs.isEmpty(), file + " is empty");
        }
    }

    @Test
    void duplicateKeysAreCaught() {
        try {
            Yaml.map("a: 1\na: 2\n");
        } catch (RuntimeException expected) {
            return;
        }
        throw new AssertionError("a duplicate key went through");
    }

    @Test
    void templatesAreOnlyInTheChartsTemplatesFolder() throws IOException {
        for (Path file : yamlFiles()) {
            assertFalse(Repository.read(file).contains("{{"), file + " holds template actions outside templates/");
        }
    }
}
