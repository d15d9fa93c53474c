package dev.pcwmesh.deploy;

import io.smallrye.config.SmallRyeConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/compose against the services: Docker cannot run here, so the compose files are read and each
 * service's configuration is resolved from its application.properties and the environment compose
 * gives it, by SmallRye Config, as the service would resolve it in its container.
 */
class ComposeTest {

    static final Path COMPOSE_DIR = Repository.path("deploy/compose");

    static Map<String, Object> compose() { return Yaml.map(Repository.read(COMPOSE_DIR.resolve("docker-compose.yml"))); }

    static Map<String, Object> service(Map<String, Object> compose, String name) { return Yaml.mapAt(compose, "services." + name); }

    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");

    /** Compose's interpolation with no variable set: ${VAR:-default} gives the default, ${VAR} nothing, $$ a $. */
    static String interpolate(String value) {
        Matcher m = INTERPOLATION.matcher(value);
        return m.replaceAll(r -> Matcher.quoteReplacement(r.group().equals("$$") ? "$" : r.group(2) != null ? r.group(2) : ""));
    }

    /** A service's environment after interpolation (merge keys resolved by the YAML parser). */
    static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> env = new LinkedHashMap<>();
        Yaml.mapAt(service, "environment").forEach((k, v) -> env.put(k, interpolate(String.valueOf(v))));
        return env;
    }

    @Test
    void kafkaIsTheOfficialImageInKraftModeAtTheClientsVersion() {
        Map<String, Object> kafka = service(compose(), "kafka");
        assertEquals("apache/kafka:" + Repository.parentPom().properties().get("kafka.version"), kafka.get("image"),
                "the broker version of the services' kafka-clients (parent pom kafka.version)");
        Map<String, String> env = environment(kafka);
        assertEquals(Set.of("broker", "controller"), Set.of(env.get("KAFKA_PROCESS_ROLES").split(",")), "KRaft, combined node");
        assertEquals(env.get("KAFKA_NODE_ID") + "@kafka:9093", env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"));
        assertTrue(env.get("KAFKA_LISTENERS").contains("CONTROLLER://:9093"));
        assertTrue(env.keySet().stream().noneMatch(k -> k.contains("ZOOKEEPER")), "no ZooKeeper");
        assertEquals("false", env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE"), "topics come from the services (pcw.topics.create)");
        assertTrue(env.get("CLUSTER_ID").matches("[A-Za-z0-9_-]{22}"), "a base64 cluster id, for formatting");
        assertTrue(env.get("KAFKA_ADVERTISED_LISTENERS").contains("PLAINTEXT://kafka:9092"));
        assertTrue(String.valueOf(Yaml.listAt(kafka, "healthcheck.test")).contains("kafka-broker-api-versions.sh --bootstrap-server localhost:9092"));
        assertTrue(String.valueOf(kafka.get("volumes")).contains(":" + env.get("KAFKA_LOG_DIRS")), "the broker's data on a volume");
        for (String name : ServiceModule.NAMES) {
            assertEquals("service_healthy", Yaml.stringAt(service(compose(), name), "depends_on.kafka.condition"), name + " waits for the broker");
        }
    }

    @Test
    void everyServiceBuildsFromItsDockerfileAndPublishesItsPort() {
        Map<String, Object> compose = compose();
        String version = Repository.parentPom().releaseVersion();
        for (ServiceModule s : ServiceModule.all()) {
            Map<String, Object> svc = service(compose, s.name());
            Path context = COMPOSE_DIR.resolve(Yaml.stringAt(svc, "build.context")).normalize();
            assertEquals(Repository.root(), context, s.name() + " builds from the repository root (the images build every module they need)");
            assertEquals("deploy/docker/" + s.name() + "/Dockerfile.jvm", Yaml.stringAt(svc, "build.dockerfile"));
            assertTrue(Files.isRegularFile(context.resolve(Yaml.stringAt(svc, "build.dockerfile"))));
            assertEquals("pcw-mesh/" + s.name() + ":" + version, svc.get("image"), "image named as the Helm chart names it");
            assertEquals(List.of("127.0.0.1:" + s.port() + ":" + s.port()), Yaml.listAt(svc, "ports"),
                    s.name() + " publishes quarkus.http.port (gRPC and HTTP) on the loopback only");
        }
    }

    @Test
    void environmentResolvesToTheRightSettingsInsideEachService() {
        Map<String, Object> compose = compose();
        for (ServiceModule s : ServiceModule.all()) {
            Map<String, String> env = environment(service(compose, s.name()));
            for (String name : env.keySet()) {
                assertTrue(s.consumesEnvironment(name), s.name() + ": " + name + " sets nothing the service reads");
            }
            SmallRyeConfig config = ServiceConfig.resolve(s, null, env);
            assertEquals("kafka:9092", ServiceConfig.value(config, "kafka.bootstrap.servers"), s.name());
            String model = ServiceConfig.value(config, "pcw.model");
            assertTrue(model.startsWith("/models/"), s.name() + " model " + model);
            assertTrue(Files.isRegularFile(Repository.path("models").resolve(model.substring("/models/".length()))),
                    "the default model exists in the repository's models/ folder, which compose mounts: " + model);
            assertTrue(Yaml.listAt(service(compose, s.name()), "volumes").contains("../../models:/models:ro"),
                    s.name() + " mounts the repository's models/ read-only at /models");
            assertTrue(Files.isDirectory(COMPOSE_DIR.resolve("../../models").normalize()));
            assertEquals(String.valueOf(s.port()), ServiceConfig.value(config, "quarkus.http.port"));
        }
    }

    @Test
    void theEncoderAdvertisesItsComposeNameAndKeepsSegmentsOnAVolume() {
        Map<String, Object> compose = compose();
        ServiceModule encoder = ServiceModule.of("encoder");
        Map<String, Object> svc = service(compose, "encoder");
        SmallRyeConfig config = ServiceConfig.resolve(encoder, null, environment(svc));
        assertEquals("encoder:" + encoder.port(), ServiceConfig.value(config, "pcw.encoder.advertised-address"),
                "the generator fetches segments at the address the encoder advertises: its compose service name and port");
        String dir = ServiceConfig.value(config, "pcw.store.disk-dir");
        List<Object> volumes = Yaml.listAt(svc, "volumes");
        String volume = volumes.stream().map(String::valueOf).filter(v -> v.endsWith(":" + dir)).findFirst()
                .orElseThrow(() -> new AssertionError("pcw.store.disk-dir " + dir + " is not a volume: " + volumes));
        String name = volume.substring(0, volume.indexOf(':'));
        assertTrue(Yaml.mapAt(compose, "volumes").containsKey(name), "a named volume, kept across restarts: " + name);
        String dockerfileDir = Dockerfile.parse(Repository.path("deploy/docker/encoder/Dockerfile.jvm")).last().env().get("PCW_ENCODER_DISK_DIR");
        assertEquals(dockerfileDir, dir, "the directory the image prepares (owned by its user) is the one mounted");
    }

    @Test
    void theChunkerCutsWindowsThatFitTheDemoModel() {
        ServiceModule chunker = ServiceModule.of("chunker");
        SmallRyeConfig config = ServiceConfig.resolve(chunker, null, environment(service(compose(), "chunker")));
        int context = ((Number) Yaml.at(Yaml.load(Repository.read("models/demo/summary.json")), "config.context")).intValue();
        assertEquals(context * 7 / 10, Integer.parseInt(ServiceConfig.value(config, "pcw.window-tokens")),
                "70 % of the demo model's trained context, as pcw mesh up cuts windows");
        assertTrue(ServiceConfig.value(config, "pcw.model").endsWith("/pcw-demo.gguf"));
    }

    @Test
    void gpuOverrideReservesAGpuForTheEncoderAndUsesItsCudaImage() {
        Map<String, Object> gpu = Yaml.map(Repository.read(COMPOSE_DIR.resolve("docker-compose.gpu.yml")));
        Map<String, Object> encoder = Yaml.mapAt(gpu, "services.encoder");
        String dockerfile = Yaml.stringAt(encoder, "build.dockerfile");
        assertEquals("deploy/docker/encoder/Dockerfile.cuda", dockerfile);
        assertTrue(Files.isRegularFile(Repository.path(dockerfile)));
        assertEquals(service(compose(), "encoder").get("image") + "-cuda", encoder.get("image"), "the CUDA tag, as the chart's cudaTagSuffix");
        List<Object> devices = Yaml.listAt(encoder, "deploy.resources.reservations.devices");
        assertEquals(1, devices.size());
        Map<String, Object> device = Yaml.asMap(devices.getFirst(), "device");
        assertEquals("nvidia", device.get("driver"));
        assertTrue(Yaml.asList(device.get("capabilities"), "capabilities").contains("gpu"));
        assertTrue(((Number) device.get("count")).intValue() >= 1);
        Set<String> services = new TreeSet<>(Yaml.mapAt(gpu, "services").keySet());
        assertTrue(compose().get("services") instanceof Map<?, ?> m && m.keySet().containsAll(services), "overrides only services the base file has");
    }

    @Test
    void secureOverrideTurnsOnTlsAndApiKeysWithFilesTheServicesRead() {
        Map<String, Object> secure = Yaml.map(Repository.read(COMPOSE_DIR.resolve("docker-compose.secure.yml")));
        for (ServiceModule s : ServiceModule.all()) {
            Map<String, Object> service = service(secure, s.name());
            Map<String, String> env = environment(service);
            assertEquals("prod,tls", env.get("QUARKUS_PROFILE"), s.name());
            assertEquals("true", env.get("PCW_SECURITY_ENABLED"), s.name());
            List<String> mounted = Yaml.listAt(service, "volumes").stream().map(v -> String.valueOf(v).split(":")[1]).toList();
            String shipped = Repository.read(s.dir().resolve("src/main/resources/application.properties"));
            for (var e : env.entrySet()) {
                if (e.getKey().startsWith("PCW_TLS_")) {
                    assertTrue(shipped.contains("${" + e.getKey() + ":"), s.name() + "'s tls profile reads " + e.getKey());
                } else if (!e.getKey().equals("QUARKUS_PROFILE")) {
                    assertTrue(s.consumesEnvironment(e.getKey()), s.name() + ": " + e.getKey() + " is read by nobody");
                }
                if (e.getKey().endsWith("_FILE")) assertTrue(mounted.contains(e.getValue()), s.name() + " mounts " + e.getValue());
            }
            SmallRyeConfig config = ServiceConfig.resolve(s, null, env);
            assertEquals("true", ServiceConfig.value(config, "pcw.security.enabled"), s.name());
            assertEquals("/etc/pcw/keys/api-keys", ServiceConfig.value(config, "pcw.security.api-keys-file"), s.name());
        }
        assertTrue(environment(service(secure, "generator")).containsKey("PCW_SECURITY_CLIENT_API_KEY_FILE"), "the generator's key to the encoders");
        assertEquals("encoder:9102", environment(service(compose(), "encoder")).get("PCW_ENCODER_ADVERTISED_ADDRESS"), "a name the certificate holds");
        Map<String, Object> prometheus = Yaml.map(Repository.read(COMPOSE_DIR.resolve("prometheus.secure.yml")));
        for (Object job : Yaml.listAt(prometheus, "scrape_configs")) {
            assertEquals("https", Yaml.stringAt(job, "scheme"));
            assertEquals("/etc/prometheus/ca.crt", Yaml.stringAt(job, "tls_config.ca_file"));
        }
        Set<String> services = new TreeSet<>(Yaml.mapAt(secure, "services").keySet());
        assertTrue(compose().get("services") instanceof Map<?, ?> m && m.keySet().containsAll(services), "overrides only services the base file has");
    }

    @Test
    void prometheusScrapesEveryServiceAtItsMetricsEndpoint() {
        Map<String, Object> prometheus = Yaml.map(Repository.read(COMPOSE_DIR.resolve("prometheus.yml")));
        Map<String, Object> compose = compose();
        Set<String> scraped = new TreeSet<>();
        for (Object job : Yaml.listAt(prometheus, "scrape_configs")) {
            Map<String, Object> j = Yaml.asMap(job, "job");
            for (Object sc : Yaml.asList(j.get("static_configs"), "static_configs")) {
                for (Object target : Yaml.listAt(sc, "targets")) {
                    String[] hostPort = String.valueOf(target).split(":");
                    ServiceModule s = ServiceModule.of(hostPort[0]);
                    assertNotNull(service(compose, hostPort[0]), "target " + target + " is a compose service");
                    assertEquals(s.port(), Integer.parseInt(hostPort[1]), "target " + target + " is the service's port");
                    assertEquals(s.metricsPath(), j.get("metrics_path"), "job " + j.get("job_name"));
                    scraped.add(s.name());
                }
            }
        }
        assertEquals(Set.copyOf(ServiceModule.NAMES), scraped);
        Map<String, Object> svc = service(compose, "prometheus");
        assertTrue(Yaml.listAt(svc, "volumes").contains("./prometheus.yml:/etc/prometheus/prometheus.yml:ro"));
        assertTrue(String.valueOf(svc.get("command")).contains("--config.file=/etc/prometheus/prometheus.yml"));
    }

    @Test
    void interpolationFollowsCompose() {
        assertEquals("/models/pcw-demo.gguf", interpolate("/models/${PCW_MODEL_FILE:-pcw-demo.gguf}"));
        assertEquals("a$b", interpolate("a$$b"));
        assertEquals("x", interpolate("${NOT_SET}x"));
        assertFalse(interpolate("${A-b}").contains("$"));
    }
}
