package dev.pcwmesh.deploy;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One of the three services as its module declares it: application.properties (profile-less keys), the
 * {@code pcw.*} keys of its {@code @ConfigMapping} interface, its HTTP (and gRPC) port and health paths.
 */
record ServiceModule(String name, Path dir, Properties properties, Map<String, String> mappingKeys, String pom) {

    static final List<String> NAMES = List.of("chunker", "encoder", "generator");

    static List<ServiceModule> all() { return NAMES.stream().map(ServiceModule::of).toList(); }

    static ServiceModule of(String name) {
        Path dir = Repository.path(name + "-service");
        Properties all = new Properties();
        try {
            all.load(new StringReader(Repository.read(dir.resolve("src/main/resources/application.properties"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Properties properties = new Properties();
        all.stringPropertyNames().stream().filter(k -> !k.startsWith("%")).forEach(k -> properties.setProperty(k, all.getProperty(k)));
        Path mapping = configMappingSource(dir);
        return new ServiceModule(name, dir, properties, ConfigMappingKeys.parse(Repository.read(mapping)), Repository.read(dir.resolve("pom.xml")));
    }

    private static Path configMappingSource(Path dir) {
        try (Stream<Path> files = Files.walk(dir.resolve("src/main/java"))) {
            List<Path> found = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> Repository.read(p).contains("@ConfigMapping(prefix = \"pcw\")")).toList();
            if (found.size() != 1) throw new IllegalStateException(dir + ": expected one @ConfigMapping(prefix = \"pcw\") interface, found " + found);
            return found.getFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String module() { return name + "-service"; }

    /** quarkus.http.port: gRPC is served on it too (quarkus.grpc.server.use-separate-server=false). */
    int port() {
        if (!"false".equals(properties.getProperty("quarkus.grpc.server.use-separate-server"))) {
            throw new AssertionError(name + ": gRPC is not on the HTTP port; the deployments expose one port per service");
        }
        return Integer.parseInt(properties.getProperty("quarkus.http.port"));
    }

    /** Health endpoint, e.g. health("ready") = /q/health/ready, from the roots the service configures (Quarkus' defaults otherwise). */
    String health(String kind) {
        if (!pom.contains("<artifactId>quarkus-smallrye-health</artifactId>")) throw new AssertionError(name + " has no quarkus-smallrye-health");
        return nonApplicationRoot() + "/" + properties.getProperty("quarkus.smallrye-health.root-path", "health").replaceAll("^/+", "") + "/" + kind;
    }

    /** The Prometheus endpoint (quarkus-micrometer-registry-prometheus). */
    String metricsPath() {
        if (!pom.contains("<artifactId>quarkus-micrometer-registry-prometheus</artifactId>")) throw new AssertionError(name + " has no Prometheus registry");
        return nonApplicationRoot() + "/" + properties.getProperty("quarkus.micrometer.export.prometheus.path", "metrics").replaceAll("^/+", "");
    }

    private String nonApplicationRoot() {
        return "/" + properties.getProperty("quarkus.http.non-application-root-path", "q").replaceAll("^/+|/+$", "");
    }

    /** pcw.* keys: the @ConfigMapping's, plus any other pcw.* key application.properties sets. */
    Map<String, String> pcwKeys() {
        Map<String, String> keys = new LinkedHashMap<>(mappingKeys);
        properties.stringPropertyNames().stream().filter(k -> k.startsWith("pcw.")).forEach(k -> keys.putIfAbsent(k, "String"));
        return keys;
    }

    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)(?::|})");

    /** Environment variables application.properties names in expressions (${PCW_MODEL:...}). */
    List<String> referencedEnvironment() {
        Matcher m = ENV_REFERENCE.matcher(properties.values().stream().map(Object::toString).reduce("", (a, b) -> a + "\n" + b));
        return m.results().map(r -> r.group(1)).distinct().toList();
    }

    /** The key an environment variable sets for this service, if any: a pcw/kafka/quarkus key in env form, or a ${NAME} expression. */
    boolean consumesEnvironment(String env) {
        if (referencedEnvironment().contains(env)) return true;
        if (ConfigMappingKeys.keyForEnv(pcwKeys(), env).isPresent()) return true;
        return properties.stringPropertyNames().stream().anyMatch(k -> ConfigMappingKeys.envName(k).equals(env));
    }
}
