package dev.pcwmesh.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.smallrye.config.SmallRyeConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.pcwmesh.deploy.HelmChart.FULLNAME;
import static dev.pcwmesh.deploy.HelmChart.NAMESPACE;
import static dev.pcwmesh.deploy.HelmChart.render;
import static dev.pcwmesh.deploy.HelmChart.sets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/helm/pcw-mesh: linted and rendered by Helm's own engine (Helm 3 through helm-java), and the
 * rendered objects held to the services: ports, health endpoints, config keys (application.properties
 * and the @ConfigMapping interfaces), the encoder's advertised address, GPUs, autoscaling, Kafka.
 */
class HelmChartTest {

    /** pcw.* keys the chart sets itself (not through a service's config values). */
    /** Security the chart switches from tls.*, auth.* (env variables and mounted Secrets), not from a service's config values. */
    static final Set<String> SECURITY_SET_BY_CHART = Set.of("pcw.security.enabled", "pcw.security.api-keys", "pcw.security.api-keys-file", "pcw.security.mtls");
    static final Map<String, Set<String>> SET_BY_CHART = Map.of(
            "chunker", union(Set.of("pcw.model"), SECURITY_SET_BY_CHART),
            "encoder", union(Set.of("pcw.model", "pcw.store.disk-dir", "pcw.encoder.advertised-address"), SECURITY_SET_BY_CHART),
            "generator", union(Set.of("pcw.model", "pcw.security.client.api-key", "pcw.security.client.api-key-file", "pcw.security.client.tls",
                    "pcw.security.client.ca-file", "pcw.security.client.cert-file", "pcw.security.client.key-file"), SECURITY_SET_BY_CHART));

    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new TreeSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }

    static Map<String, Object> values() { return Yaml.map(Repository.read(HelmChart.CHART.resolve("values.yaml"))); }

    @Test
    void lintPassesStrictly() {
        LintResult lint = new Helm(HelmChart.CHART).lint().strict().call();
        assertFalse(lint.isFailed(), "helm lint --strict: " + lint.getMessages());
        assertTrue(lint.getMessages().stream().noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]")), lint.getMessages().toString());
    }

    @Test
    void everyRenderedDocumentIsANamedLabelledKubernetesObject() {
        for (HelmChart.Rendered r : List.of(render(), render(sets("kafka.strimzi.enabled", true, "encoder.autoscaling.enabled", true,
                "generator.autoscaling.enabled", true, "metrics.serviceMonitor.force", true, "encoder.gpu.enabled", true)))) {
            assertTrue(r.objects().size() >= 14, r.names().toString());
            for (Map<String, Object> o : r.objects()) {
                String name = Yaml.stringAt(o, "metadata.name");
                assertTrue(o.get("apiVersion") != null && o.get("kind") != null, name);
                assertTrue(name.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"), "a DNS label: " + name);
                assertEquals("pcw-mesh", Yaml.mapAt(o, "metadata.labels").get("app.kubernetes.io/part-of"), name + " is labelled part of pcw-mesh");
            }
        }
    }

    @Test
    void chartAndImagesCarryTheProjectsVersion() {
        Map<String, Object> chart = Yaml.map(Repository.read(HelmChart.CHART.resolve("Chart.yaml")));
        assertEquals("v2", chart.get("apiVersion"));
        assertEquals(Repository.parentPom().releaseVersion(), String.valueOf(chart.get("appVersion")));
        HelmChart.Rendered r = render();
        for (String s : ServiceModule.NAMES) {
            assertEquals("pcw-mesh/" + s + ":" + chart.get("appVersion"), Yaml.stringAt(r.container(s), "image"));
            assertEquals(ComposeTest.service(ComposeTest.compose(), s).get("image"), Yaml.stringAt(r.container(s), "image"),
                    "compose builds the image the chart runs");
        }
        assertEquals(Repository.parentPom().properties().get("kafka.version"), Yaml.stringAt(values(), "kafka.strimzi.version"));
    }

    @Test
    void everyServiceServesItsPortWithProbesOnItsHealthEndpoints() {
        HelmChart.Rendered r = render();
        for (ServiceModule s : ServiceModule.all()) {
            Map<String, Object> c = r.container(s.name());
            Map<String, Object> port = Yaml.asMap(Yaml.listAt(c, "ports").getFirst(), "port");
            assertEquals(s.port(), port.get("containerPort"), s.name() + "'s quarkus.http.port (gRPC served on it)");
            assertEquals("http", port.get("name"));
            Map<String, Object> service = r.get("Service", FULLNAME + "-" + s.name());
            Map<String, Object> servicePort = Yaml.asMap(Yaml.listAt(service, "spec.ports").getFirst(), "port");
            assertEquals(s.port(), servicePort.get("port"));
            assertEquals("http", servicePort.get("targetPort"));
            assertEquals(Yaml.mapAt(r.workload(s.name()), "spec.selector.matchLabels"), Yaml.mapAt(service, "spec.selector"));
            for (var probe : Map.of("startupProbe", "started", "livenessProbe", "live", "readinessProbe", "ready").entrySet()) {
                assertEquals(s.health(probe.getValue()), Yaml.stringAt(c, probe.getKey() + ".httpGet.path"), s.name() + " " + probe.getKey());
                assertEquals("http", Yaml.stringAt(c, probe.getKey() + ".httpGet.port"));
            }
        }
    }

    @Test
    void configMapsHoldOnlySettingsTheServicesReadWithValuesOfTheirTypes() {
        for (HelmChart.Rendered r : List.of(render(), render(sets("kafka.strimzi.enabled", true, "generator.config.segments.encode-wait", "2m",
                "chunker.config.limits.encode-wait", "PT30S", "generator.config.segments.encode-locally", false)))) {
            for (ServiceModule s : ServiceModule.all()) {
                Properties p = r.properties(s.name());
                Map<String, String> keys = s.pcwKeys();
                for (String key : p.stringPropertyNames()) {
                    String value = p.getProperty(key);
                    if (key.startsWith("pcw.")) {
                        assertTrue(keys.containsKey(key), s.name() + " has no setting " + key + " (its @ConfigMapping: " + keys.keySet() + ")");
                        assertOfType(s.name() + " " + key, keys.get(key), value);
                    } else {
                        assertTrue(s.properties().containsKey(key), s.name() + "'s application.properties has no " + key);
                    }
                }
                assertEquals(String.valueOf(s.port()), p.getProperty("quarkus.http.port"));
                assertTrue(p.containsKey("kafka.bootstrap.servers"));
            }
        }
    }

    static void assertOfType(String what, String javaType, String value) {
        switch (javaType) {
            case "int", "Integer", "long", "Long", "short", "Short" -> assertTrue(value.matches("-?\\d+"), what + " is a whole number: " + value);
            case "boolean", "Boolean" -> assertTrue(value.equals("true") || value.equals("false"), what + " is true or false: " + value);
            case "Duration" -> assertTrue(value.matches("\\d+(ms|s|m|h|d)?") || Duration.parse(value) != null, what + " is a duration: " + value);
            default -> assertFalse(value.isBlank(), what);
        }
    }

    /** The configuration each pod resolves: application.properties, the mounted file, the pod's environment. */
    static SmallRyeConfig podConfig(HelmChart.Rendered r, ServiceModule s, String podName) {
        Map<String, String> env = new LinkedHashMap<>();
        r.env(s.name()).forEach((k, v) -> env.put(k, v.replace("$(POD_NAME)", podName)));
        env.put("POD_NAME", podName);
        return ServiceConfig.resolve(s, r.properties(s.name()), env);
    }

    @Test
    void podsResolveTheModelKafkaAndTopicSettings() {
        HelmChart.Rendered r = render();
        for (ServiceModule s : ServiceModule.all()) {
            SmallRyeConfig config = podConfig(r, s, FULLNAME + "-" + s.name() + "-0");
            assertEquals("/models/pcw-demo.gguf", ServiceConfig.value(config, "pcw.model"));
            assertEquals("kafka:9092", ServiceConfig.value(config, "kafka.bootstrap.servers"));
            assertEquals("3", ServiceConfig.value(config, "pcw.topics.replication-factor"));
            assertEquals("true", ServiceConfig.value(config, "pcw.topics.create"));
            assertEquals(String.valueOf(s.port()), ServiceConfig.value(config, "quarkus.http.port"));
            for (String env : r.env(s.name()).keySet()) {
                boolean entrypoint = env.equals("JAVA_HEAP_OPTS") || env.equals("JAVA_OPTS");
                boolean podName = env.equals("POD_NAME") && r.env(s.name()).values().stream().anyMatch(v -> v.contains("$(POD_NAME)"));
                assertTrue(entrypoint || podName || s.consumesEnvironment(env), s.name() + ": " + env + " is read by nobody");
            }
            String entrypoint = Dockerfile.parse(Repository.path("deploy/docker/" + s.name() + "/Dockerfile.jvm")).last().only("ENTRYPOINT").arguments();
            assertTrue(entrypoint.contains("$JAVA_HEAP_OPTS") && entrypoint.contains("$JAVA_OPTS"), "the image reads JAVA_HEAP_OPTS and JAVA_OPTS");
        }
        SmallRyeConfig chunker = podConfig(r, ServiceModule.of("chunker"), "c");
        assertEquals(String.valueOf(((Number) Yaml.at(values(), "chunker.config.window-tokens")).intValue()), ServiceConfig.value(chunker, "pcw.window-tokens"));
    }

    @Test
    void theConfigFileIsMountedWhereQuarkusReadsIt() {
        HelmChart.Rendered r = render();
        for (ServiceModule s : ServiceModule.all()) {
            String workdir = Dockerfile.parse(Repository.path("deploy/docker/" + s.name() + "/Dockerfile.jvm")).last().only("WORKDIR").arguments();
            Map<String, String> mounts = mounts(r, s.name());
            assertEquals(workdir + "/config", mounts.get("config"), "Quarkus reads config/application.properties in the working directory");
            assertEquals(FULLNAME + "-" + s.name(), Yaml.stringAt(volume(r, s.name(), "config"), "configMap.name"));
            assertEquals("/tmp", mounts.get("tmp"), "a writable /tmp under a read-only root file system");
            assertEquals(Boolean.TRUE, Yaml.at(r.container(s.name()), "securityContext.readOnlyRootFilesystem"));
        }
    }

    static Map<String, String> mounts(HelmChart.Rendered r, String service) {
        Map<String, String> mounts = new LinkedHashMap<>();
        for (Object m : Yaml.listAt(r.container(service), "volumeMounts")) mounts.put(Yaml.stringAt(m, "name"), Yaml.stringAt(m, "mountPath"));
        return mounts;
    }

    static Map<String, Object> volume(HelmChart.Rendered r, String service, String name) {
        return Yaml.listAt(r.workload(service), "spec.template.spec.volumes").stream().map(v -> Yaml.asMap(v, "volume"))
                .filter(v -> name.equals(v.get("name"))).findFirst().orElseThrow(() -> new AssertionError(service + " has no volume " + name));
    }

    @Test
    void theModelIsMountedReadOnlyFromTheConfiguredVolume() {
        HelmChart.Rendered r = render(sets("model.file", "Qwen2.5-7B-Instruct-Q4_K_M.gguf"));
        for (ServiceModule s : ServiceModule.all()) {
            assertEquals("/models", mounts(r, s.name()).get("model"));
            assertEquals("/models/Qwen2.5-7B-Instruct-Q4_K_M.gguf", r.env(s.name()).get("PCW_MODEL"));
            assertEquals("pcw-models", Yaml.stringAt(volume(r, s.name(), "model"), "persistentVolumeClaim.claimName"));
            String imageDefault = Dockerfile.parse(Repository.path("deploy/docker/" + s.name() + "/Dockerfile.jvm")).last().env().get("PCW_MODEL");
            assertTrue(imageDefault.startsWith(Yaml.stringAt(values(), "model.mountPath") + "/"), "the image expects the model where the chart mounts it");
        }
    }

    @Test
    void podsRunAsTheImagesNonRootUser() {
        HelmChart.Rendered r = render();
        for (ServiceModule s : ServiceModule.all()) {
            String[] user = Dockerfile.parse(Repository.path("deploy/docker/" + s.name() + "/Dockerfile.jvm")).last().only("USER").arguments().split(":");
            Map<String, Object> pod = Yaml.mapAt(r.workload(s.name()), "spec.template.spec.securityContext");
            assertEquals(Boolean.TRUE, pod.get("runAsNonRoot"));
            assertEquals(Integer.parseInt(user[0]), pod.get("runAsUser"));
            assertEquals(Integer.parseInt(user[1]), pod.get("fsGroup"), "volumes (the encoder's segments) writable by the image's group");
        }
    }

    @Test
    void encodersAdvertiseAStablePerPodAddressTheGeneratorsCanReach() {
        HelmChart.Rendered r = render();
        ServiceModule encoder = ServiceModule.of("encoder");
        Map<String, Object> sts = r.get("StatefulSet", FULLNAME + "-encoder");
        String headlessName = Yaml.stringAt(sts, "spec.serviceName");
        Map<String, Object> headless = r.get("Service", headlessName);
        assertEquals("None", Yaml.stringAt(headless, "spec.clusterIP"), "headless: one DNS record per pod");
        assertEquals(Boolean.TRUE, Yaml.at(headless, "spec.publishNotReadyAddresses"));
        assertEquals(Yaml.mapAt(sts, "spec.selector.matchLabels"), Yaml.mapAt(headless, "spec.selector"));
        assertEquals(encoder.port(), Yaml.at(Yaml.listAt(headless, "spec.ports").getFirst(), "port"));

        List<String> names = new ArrayList<>(r.env("encoder").keySet());
        assertEquals("fieldRef:metadata.name", r.env("encoder").get("POD_NAME"));
        assertTrue(names.indexOf("POD_NAME") < names.indexOf("PCW_ENCODER_ADVERTISED_ADDRESS"),
                "Kubernetes expands $(POD_NAME) only from variables defined before");
        String pod = FULLNAME + "-encoder-1";
        SmallRyeConfig config = podConfig(r, encoder, pod);
        assertEquals(pod + "." + headlessName + "." + NAMESPACE + ".svc.cluster.local:" + encoder.port(),
                ServiceConfig.value(config, "pcw.encoder.advertised-address"),
                "<pod>.<StatefulSet's serviceName>.<namespace>.svc.<domain>: the pod's own DNS name, the same after a restart");
        assertFalse(Yaml.mapAt(headless, "metadata.labels").containsKey("pcw-mesh.dev/metrics"), "not scraped a second time through the headless Service");
    }

    @Test
    void encodersKeepTheirSegmentStoreOnTheirOwnVolume() {
        HelmChart.Rendered r = render();
        ServiceModule encoder = ServiceModule.of("encoder");
        Map<String, Object> sts = r.get("StatefulSet", FULLNAME + "-encoder");
        SmallRyeConfig config = podConfig(r, encoder, "e");
        String dir = ServiceConfig.value(config, "pcw.store.disk-dir");
        assertEquals(dir, mounts(r, "encoder").get("segments"), "pcw.store.disk-dir is the segments volume");
        Map<String, Object> claim = Yaml.asMap(Yaml.listAt(sts, "spec.volumeClaimTemplates").getFirst(), "claim");
        assertEquals("segments", Yaml.stringAt(claim, "metadata.name"));
        long size = quantity(Yaml.stringAt(claim, "spec.resources.requests.storage"));
        long diskBytes = Long.parseLong(ServiceConfig.value(config, "pcw.store.disk-bytes"));
        assertTrue(diskBytes < size, "the store's disk tier (" + diskBytes + ") fits its volume (" + size + ")");
        assertEquals(Dockerfile.parse(Repository.path("deploy/docker/encoder/Dockerfile.jvm")).last().env().get("PCW_ENCODER_DISK_DIR"), dir,
                "the same directory as the image's volume");

        HelmChart.Rendered ephemeral = render(sets("encoder.persistence.enabled", false));
        assertNull(Yaml.at(ephemeral.get("StatefulSet", FULLNAME + "-encoder"), "spec.volumeClaimTemplates"));
        assertEquals("20Gi", Yaml.stringAt(volume(ephemeral, "encoder", "segments"), "emptyDir.sizeLimit"));
    }

    static long quantity(String q) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|Ti)?").matcher(q);
        if (!m.matches()) throw new AssertionError("quantity " + q);
        int shift = switch (m.group(2) == null ? "" : m.group(2)) { case "Ki" -> 10; case "Mi" -> 20; case "Gi" -> 30; case "Ti" -> 40; default -> 0; };
        return Long.parseLong(m.group(1)) << shift;
    }

    @Test
    void gpuPodsLimitNvidiaGpusAndRunTheCudaImages() {
        assertFalse(render().text().contains("nvidia.com/gpu:"), "no GPU unless asked");
        HelmChart.Rendered r = render(sets("encoder.gpu.enabled", true, "generator.gpu.enabled", true, "generator.gpu.count", 2));
        for (String s : List.of("encoder", "generator")) {
            Map<String, Object> c = r.container(s);
            assertEquals(s.equals("generator") ? 2 : 1, Yaml.mapAt(c, "resources.limits").get("nvidia.com/gpu"));
            assertTrue(Yaml.mapAt(c, "resources.limits").containsKey("memory"), "the memory limit stays");
            assertEquals("pcw-mesh/" + s + ":" + Repository.parentPom().releaseVersion() + "-cuda", c.get("image"));
            assertTrue(Files.isRegularFile(Repository.path("deploy/docker/" + s + "/Dockerfile.cuda")), "the CUDA image exists to build");
            assertTrue(String.valueOf(Yaml.at(r.workload(s), "spec.template.spec.tolerations")).contains("nvidia.com/gpu"));
        }
        assertFalse(Yaml.mapAt(r.container("chunker"), "resources.limits").containsKey("nvidia.com/gpu"), "the chunker needs no GPU");
    }

    @Test
    void autoscalersScaleEncodersAndGeneratorsAndOwnTheirReplicas() {
        HelmChart.Rendered fixed = render();
        assertTrue(fixed.ofKind("HorizontalPodAutoscaler").isEmpty());
        assertEquals(2, Yaml.at(fixed.workload("encoder"), "spec.replicas"));
        HelmChart.Rendered r = render(sets("encoder.autoscaling.enabled", true, "generator.autoscaling.enabled", true));
        assertEquals(2, r.ofKind("HorizontalPodAutoscaler").size());
        for (String s : List.of("encoder", "generator")) {
            Map<String, Object> hpa = r.get("HorizontalPodAutoscaler", FULLNAME + "-" + s);
            Map<String, Object> workload = r.workload(s);
            assertEquals(workload.get("kind"), Yaml.stringAt(hpa, "spec.scaleTargetRef.kind"));
            assertEquals(Yaml.stringAt(workload, "metadata.name"), Yaml.stringAt(hpa, "spec.scaleTargetRef.name"));
            assertEquals("autoscaling/v2", hpa.get("apiVersion"));
            assertNull(Yaml.at(workload, "spec.replicas"), s + ": the autoscaler owns the replica count");
            assertTrue((Integer) Yaml.at(hpa, "spec.minReplicas") <= (Integer) Yaml.at(hpa, "spec.maxReplicas"));
        }
    }

    @Test
    void disruptionBudgetsSelectEachServicesPods() {
        HelmChart.Rendered r = render();
        assertEquals(3, r.ofKind("PodDisruptionBudget").size());
        for (String s : ServiceModule.NAMES) {
            Map<String, Object> pdb = r.get("PodDisruptionBudget", FULLNAME + "-" + s);
            assertEquals(Yaml.mapAt(r.workload(s), "spec.selector.matchLabels"), Yaml.mapAt(pdb, "spec.selector.matchLabels"));
            assertEquals(1, Yaml.at(pdb, "spec.maxUnavailable"));
        }
    }

    @Test
    void serviceMonitorScrapesTheThreeServicesWhenThePrometheusOperatorIsThere() {
        assertTrue(render().ofKind("ServiceMonitor").isEmpty(), "helm template sees no monitoring.coreos.com/v1: no ServiceMonitor");
        assertTrue(render(sets("metrics.serviceMonitor.enabled", false, "metrics.serviceMonitor.force", true)).ofKind("ServiceMonitor").isEmpty());
        HelmChart.Rendered r = render(sets("metrics.serviceMonitor.force", true));
        Map<String, Object> monitor = r.get("ServiceMonitor", FULLNAME);
        assertEquals("monitoring.coreos.com/v1", monitor.get("apiVersion"));
        Map<String, Object> selector = Yaml.mapAt(monitor, "spec.selector.matchLabels");
        Set<String> selected = new TreeSet<>();
        for (Map<String, Object> svc : r.ofKind("Service")) {
            Map<String, Object> labels = Yaml.mapAt(svc, "metadata.labels");
            if (labels.entrySet().containsAll(selector.entrySet())) selected.add(Yaml.stringAt(svc, "metadata.name"));
        }
        assertEquals(new TreeSet<>(ServiceModule.NAMES.stream().map(s -> FULLNAME + "-" + s).toList()), selected,
                "each service scraped once (not through the encoders' headless Service too)");
        Map<String, Object> endpoint = Yaml.asMap(Yaml.listAt(monitor, "spec.endpoints").getFirst(), "endpoint");
        assertEquals("http", endpoint.get("port"), "the Services' port name");
        for (ServiceModule s : ServiceModule.all()) assertEquals(s.metricsPath(), endpoint.get("path"));
        String template = Repository.read(HelmChart.CHART.resolve("templates/servicemonitor.yaml"));
        assertTrue(template.contains(".Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\""), "created when the operator's API is served");
    }

    @Test
    void anExternalKafkaByDefaultOrAStrimziKraftCluster() {
        HelmChart.Rendered external = render(sets("kafka.bootstrapServers", "broker-0.kafka:9092,broker-1.kafka:9092"));
        assertTrue(external.ofKind("Kafka").isEmpty() && external.ofKind("KafkaNodePool").isEmpty());
        for (String s : ServiceModule.NAMES) {
            assertEquals("broker-0.kafka:9092,broker-1.kafka:9092", external.properties(s).getProperty("kafka.bootstrap.servers"));
        }
        HelmChart.Rendered r = render(sets("kafka.strimzi.enabled", true));
        Map<String, Object> kafka = r.get("Kafka", FULLNAME);
        assertEquals("kafka.strimzi.io/v1", kafka.get("apiVersion"));
        assertEquals(Repository.parentPom().properties().get("kafka.version"), Yaml.stringAt(kafka, "spec.kafka.version"));
        assertEquals("enabled", Yaml.mapAt(kafka, "metadata.annotations").get("strimzi.io/kraft"));
        assertEquals("false", String.valueOf(Yaml.mapAt(kafka, "spec.kafka.config").get("auto.create.topics.enable")));
        assertNull(Yaml.at(kafka, "spec.zookeeper"), "KRaft: no ZooKeeper");
        Map<String, Object> pool = r.ofKind("KafkaNodePool").getFirst();
        assertEquals(List.of("controller", "broker"), Yaml.listAt(pool, "spec.roles"));
        assertEquals(FULLNAME, Yaml.mapAt(pool, "metadata.labels").get("strimzi.io/cluster"));
        Map<String, Object> plain = Yaml.listAt(kafka, "spec.kafka.listeners").stream().map(l -> Yaml.asMap(l, "listener"))
                .filter(l -> Boolean.FALSE.equals(l.get("tls"))).findFirst().orElseThrow();
        for (String s : ServiceModule.NAMES) {
            assertEquals(FULLNAME + "-kafka-bootstrap." + NAMESPACE + ".svc:" + plain.get("port"), r.properties(s).getProperty("kafka.bootstrap.servers"),
                    "Strimzi's bootstrap Service, plain listener");
        }
        IllegalStateException tooFew = assertThrows(IllegalStateException.class,
                () -> render(sets("kafka.strimzi.enabled", true, "kafka.strimzi.replicas", 1)));
        assertTrue(tooFew.getMessage().contains("topics.replicationFactor"), tooFew.getMessage());
    }

    @Test
    void secretsAreMountedByNameAndNeverRendered() {
        assertTrue(render().ofKind("Secret").isEmpty());
        HelmChart.Rendered r = render(sets("tls.existingSecret", "pcw-tls", "auth.existingSecret", "pcw-api-keys", "kafka.auth.existingSecret", "pcw-kafka-user",
                "kafka.auth.securityProtocol", "SASL_SSL"));
        assertTrue(r.ofKind("Secret").isEmpty(), "the chart creates no Secret: it only names existing ones");
        Map<String, String> expected = Map.of("tls", "pcw-tls", "auth", "pcw-api-keys", "kafka-auth", "pcw-kafka-user");
        for (String s : ServiceModule.NAMES) {
            for (var e : expected.entrySet()) {
                assertEquals(e.getValue(), Yaml.stringAt(volume(r, s, e.getKey()), "secret.secretName"));
                assertTrue(mounts(r, s).containsKey(e.getKey()), s + " mounts " + e.getKey());
            }
            for (Object var : Yaml.listAt(r.container(s), "env")) {
                String name = Yaml.stringAt(var, "name");
                boolean path = name.endsWith("_FILE") || name.endsWith("_LOCATION"); // where a mounted credential lies, not the credential
                assertFalse(name.matches(".*(PASSWORD|SECRET|TOKEN|KEY|JAAS).*") && !path && Yaml.at(var, "value") != null, "no credential as a plain value: " + name);
            }
        }
    }

    @Test
    void valuesValidateAgainstTheSchemaAndTheSchemaRefusesWhatTheChartCannotUse() {
        ValuesSchema schema = ValuesSchema.load();
        assertEquals("http://json-schema.org/draft-07/schema#", schema.declaredDialect());
        Map<String, Object> values = values();
        assertEquals(List.of(), schema.validate(values), "values.yaml against values.schema.json");
        Map<String, Map<String, Object>> wrong = new LinkedHashMap<>();
        wrong.put("a plain-text certificate", Map.of("tls", Map.of("certificate", "-----BEGIN CERTIFICATE-----")));
        wrong.put("a plain-text Kafka password", Map.of("kafka", Map.of("auth", Map.of("password", "hunter2"))));
        wrong.put("a misspelt setting", Map.of("generator", Map.of("config", Map.of("limits", Map.of("max-concurent-asks", 8)))));
        wrong.put("a setting the chart makes itself", Map.of("encoder", Map.of("config", Map.of("store", Map.of("disk-dir", "/data")))));
        wrong.put("a port that is no number", Map.of("chunker", Map.of("port", "http")));
        wrong.put("a bad duration", Map.of("generator", Map.of("config", Map.of("segments", Map.of("encode-wait", "soon")))));
        wrong.put("a bad pull policy", Map.of("image", Map.of("pullPolicy", "Sometimes")));
        wrong.put("a model volume of two sources", Map.of("model", Map.of("volume", Map.of("hostPath", Map.of("path", "/m"), "nfs", Map.of("server", "x")))));
        for (var e : wrong.entrySet()) {
            Map<String, Object> changed = ValuesSchema.merge(values, e.getValue());
            assertFalse(schema.validate(changed).isEmpty(), "the schema accepts " + e.getKey());
        }
        IllegalStateException helm = assertThrows(IllegalStateException.class, () -> render(sets("generator.config.limits.max-concurent-asks", 8)));
        assertTrue(helm.getMessage().contains("max-concurent-asks"), "Helm applies the schema too: " + helm.getMessage());
    }

    /** The schema's config properties are exactly the services' @ConfigMapping keys (less those the chart sets), with matching types. */
    @Test
    void schemaConfigPropertiesAreTheServicesSettings() {
        ValuesSchema schema = ValuesSchema.load();
        for (ServiceModule s : ServiceModule.all()) {
            Map<String, String> leaves = schema.configLeaves(s.name());
            Map<String, String> expected = new LinkedHashMap<>(s.mappingKeys());
            SET_BY_CHART.get(s.name()).forEach(expected::remove);
            assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(leaves.keySet()), s.name() + ": chart settings and @ConfigMapping keys");
            for (var leaf : leaves.entrySet()) {
                String javaType = expected.get(leaf.getKey());
                String jsonType = switch (javaType) {
                    case "int", "Integer", "long", "Long", "short", "Short" -> "integer";
                    case "boolean", "Boolean" -> "boolean";
                    default -> "string";
                };
                assertEquals(jsonType, leaf.getValue(), s.name() + " " + leaf.getKey() + " is " + javaType);
            }
            for (String key : s.properties().stringPropertyNames()) {
                if (key.startsWith("pcw.")) assertTrue(s.mappingKeys().containsKey(key), s.name() + ": application.properties sets " + key + ", which the @ConfigMapping parser did not find");
            }
        }
    }

    /** Every .Values path a template names exists in values.yaml (and so in the schema that forbids others). */
    @Test
    void everyValuesReferenceInTheTemplatesExists() throws Exception {
        Map<String, Object> values = values();
        Pattern reference = Pattern.compile("\\.Values((?:\\.[A-Za-z_][A-Za-z0-9_]*)+)");
        Pattern perService = Pattern.compile("\\$values((?:\\.[A-Za-z_][A-Za-z0-9_]*)+)");
        List<String> missing = new ArrayList<>();
        int references = 0;
        try (Stream<Path> files = Files.list(HelmChart.CHART.resolve("templates"))) {
            for (Path file : files.toList()) {
                String text = Repository.read(file);
                Matcher m = reference.matcher(text);
                while (m.find()) {
                    references++;
                    if (!exists(values, m.group(1).substring(1))) missing.add(file.getFileName() + ": .Values" + m.group(1));
                }
                Matcher p = perService.matcher(text);
                while (p.find()) {
                    references++;
                    String path = p.group(1).substring(1);
                    if (ServiceModule.NAMES.stream().noneMatch(s -> exists(values, s + "." + path))) missing.add(file.getFileName() + ": $values" + p.group(1));
                }
            }
        }
        assertTrue(references > 50, "found " + references + " references");
        assertEquals(List.of(), missing);
    }

    static boolean exists(Map<String, Object> values, String path) {
        Object o = values;
        for (String step : path.split("\\.")) {
            if (!(o instanceof Map<?, ?> m) || !m.containsKey(step)) return false;
            o = m.get(step);
        }
        return true;
    }

    /** NOTES.txt as `helm install --dry-run=client` prints it. */
    static String notes(Map<String, Object> set) {
        var install = new Helm(HelmChart.CHART).install().withName(HelmChart.RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion("v1.33.0").clientOnly().dryRun().withDryRunOption(com.marcnuri.helm.DryRun.CLIENT);
        set.forEach(install::set);
        return install.call().getOutput();
    }

    @Test
    void securityOffByDefaultLeavesPlainHttpAndNoCredentials() {
        HelmChart.Rendered r = render();
        for (String s : ServiceModule.NAMES) {
            Map<String, String> env = r.env(s);
            for (String name : env.keySet()) assertFalse(name.startsWith("PCW_SECURITY_") || name.startsWith("PCW_TLS_") || name.startsWith("KAFKA_") || name.equals("QUARKUS_PROFILE"), s + ": " + name);
            for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                assertEquals("HTTP", Yaml.stringAt(r.container(s), probe + ".httpGet.scheme"), s + " " + probe);
            }
        }
        Map<String, Object> endpoint = Yaml.asMap(Yaml.listAt(render(sets("metrics.serviceMonitor.force", true)).get("ServiceMonitor", FULLNAME), "spec.endpoints").getFirst(), "endpoint");
        assertNull(endpoint.get("scheme"));
        assertNull(endpoint.get("tlsConfig"));
    }

    @Test
    void tlsAndApiKeysFromSecretsReachEveryServiceAndItsProbes() {
        HelmChart.Rendered r = render(sets("tls.existingSecret", "pcw-tls", "tls.mtls", true, "auth.existingSecret", "pcw-keys",
                "auth.clientKey.existingSecret", "pcw-generator-key", "generator.config.security.max-concurrent-asks-per-key", 3,
                "metrics.serviceMonitor.force", true, "metrics.serviceMonitor.tlsServerName", "pcw-mesh.mesh.svc"));
        for (ServiceModule s : ServiceModule.all()) {
            Map<String, String> env = r.env(s.name());
            assertEquals("prod,tls,mtls", env.get("QUARKUS_PROFILE"), s.name());
            assertEquals("/etc/pcw/tls/tls.crt", env.get("PCW_TLS_CERT_FILE"), s.name());
            assertEquals("/etc/pcw/tls/tls.key", env.get("PCW_TLS_KEY_FILE"), s.name());
            assertEquals("/etc/pcw/tls/ca.crt", env.get("PCW_TLS_CA_FILE"), s.name());
            assertEquals("true", env.get("PCW_SECURITY_ENABLED"), s.name());
            assertEquals("/etc/pcw/keys/api-keys", env.get("PCW_SECURITY_API_KEYS_FILE"), s.name());
            assertEquals("/etc/pcw/tls", mounts(r, s.name()).get("tls"));
            assertEquals("/etc/pcw/keys", mounts(r, s.name()).get("auth"));
            assertEquals(List.of(Map.of("key", "api-keys", "path", "api-keys")), Yaml.listAt(volume(r, s.name(), "auth"), "secret.items"),
                    "only the keys file is mounted");
            for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                assertEquals("HTTPS", Yaml.stringAt(r.container(s.name()), probe + ".httpGet.scheme"), s.name() + " " + probe);
                assertTrue(Yaml.stringAt(r.container(s.name()), probe + ".httpGet.path").startsWith("/q/"), "probes stay on /q/*, open without a client certificate");
            }
            // The files the tls profile reads are the ones the chart mounts.
            String shipped = Repository.read(s.dir().resolve("src/main/resources/application.properties"));
            for (String var : List.of("PCW_TLS_CERT_FILE", "PCW_TLS_KEY_FILE", "PCW_TLS_CA_FILE")) {
                assertTrue(shipped.contains("${" + var + ":"), s.name() + "'s tls profile reads " + var);
            }
            assertEquals("https", Yaml.mapAt(r.workload(s.name()), "spec.template.metadata.annotations").get("prometheus.io/scheme"));
        }
        assertEquals("secretKeyRef:pcw-generator-key/generator-api-key", r.env("generator").get("PCW_SECURITY_CLIENT_API_KEY"));
        assertFalse(r.env("encoder").containsKey("PCW_SECURITY_CLIENT_API_KEY"));
        assertEquals("3", r.properties("generator").getProperty("pcw.security.max-concurrent-asks-per-key"));
        assertTrue(r.env("encoder").get("PCW_ENCODER_ADVERTISED_ADDRESS").startsWith("$(POD_NAME)." + FULLNAME + "-encoder-headless." + NAMESPACE + ".svc.cluster.local:9102"),
                "the encoders' advertised address is unchanged under TLS (the certificate holds its names)");
        Map<String, Object> endpoint = Yaml.asMap(Yaml.listAt(r.get("ServiceMonitor", FULLNAME), "spec.endpoints").getFirst(), "endpoint");
        assertEquals("https", endpoint.get("scheme"));
        assertEquals("pcw-tls", Yaml.stringAt(endpoint, "tlsConfig.ca.secret.name"));
        assertEquals("ca.crt", Yaml.stringAt(endpoint, "tlsConfig.ca.secret.key"));
        assertEquals("pcw-mesh.mesh.svc", Yaml.stringAt(endpoint, "tlsConfig.serverName"));

        HelmChart.Rendered tlsOnly = render(sets("tls.existingSecret", "pcw-tls", "auth.existingSecret", "pcw-keys"));
        assertEquals("prod,tls", tlsOnly.env("chunker").get("QUARKUS_PROFILE"));
        assertEquals("secretKeyRef:pcw-keys/generator-api-key", tlsOnly.env("generator").get("PCW_SECURITY_CLIENT_API_KEY"),
                "the generator's key defaults to the keys Secret");
        IllegalStateException mtlsWithoutCertificates = assertThrows(IllegalStateException.class, () -> render(sets("tls.mtls", true)));
        assertTrue(mtlsWithoutCertificates.getMessage().contains("tls.existingSecret"), mtlsWithoutCertificates.getMessage());
    }

    @Test
    void kafkaTlsAndSaslComeFromTheSecret() {
        HelmChart.Rendered r = render(sets("kafka.auth.existingSecret", "pcw-kafka-user", "kafka.auth.securityProtocol", "SASL_SSL",
                "kafka.auth.saslMechanism", "SCRAM-SHA-512", "kafka.strimzi.enabled", true));
        for (ServiceModule s : ServiceModule.all()) {
            Map<String, String> env = r.env(s.name());
            assertEquals("SASL_SSL", env.get("KAFKA_SECURITY_PROTOCOL"));
            assertEquals("SCRAM-SHA-512", env.get("KAFKA_SASL_MECHANISM"));
            assertEquals("secretKeyRef:pcw-kafka-user/sasl.jaas.config", env.get("KAFKA_SASL_JAAS_CONFIG"));
            assertEquals("PEM", env.get("KAFKA_SSL_TRUSTSTORE_TYPE"));
            assertEquals("/etc/pcw/kafka/ca.crt", env.get("KAFKA_SSL_TRUSTSTORE_LOCATION"));
            assertEquals("/etc/pcw/kafka", mounts(r, s.name()).get("kafka-auth"));
            assertEquals(FULLNAME + "-kafka-bootstrap." + NAMESPACE + ".svc:9093", r.properties(s.name()).getProperty("kafka.bootstrap.servers"),
                    "Strimzi's TLS listener");
        }
        HelmChart.Rendered sslOnly = render(sets("kafka.auth.existingSecret", "pcw-kafka-ca", "kafka.auth.securityProtocol", "SSL"));
        assertFalse(sslOnly.env("chunker").containsKey("KAFKA_SASL_JAAS_CONFIG"));
        assertEquals("/etc/pcw/kafka/ca.crt", sslOnly.env("chunker").get("KAFKA_SSL_TRUSTSTORE_LOCATION"));
        IllegalStateException noSecret = assertThrows(IllegalStateException.class, () -> render(sets("kafka.auth.securityProtocol", "SASL_SSL")));
        assertTrue(noSecret.getMessage().contains("kafka.auth.existingSecret"), noSecret.getMessage());
    }

    @Test
    void notesTellHowToReachTheServicesAndWhatSecurityIsOn() {
        String plain = notes(Map.of());
        for (ServiceModule s : ServiceModule.all()) assertTrue(plain.contains(FULLNAME + "-" + s.name() + ":" + s.port()), plain);
        assertTrue(plain.contains("Kafka: kafka:9092"), plain);
        assertTrue(plain.contains("TLS:      off") && plain.contains("API keys: off") && plain.contains("Kafka:    PLAINTEXT"), plain);
        assertTrue(plain.contains("authenticating gateway"), "says the endpoints are not protected: " + plain);
        assertFalse(plain.contains("GPU:"), plain);
        assertFalse(plain.contains("not implemented") || plain.contains("issue 9"), plain);
        String all = notes(sets("tls.existingSecret", "pcw-tls", "tls.mtls", true, "auth.existingSecret", "pcw-keys",
                "generator.config.security.max-concurrent-asks-per-key", 2, "encoder.gpu.enabled", true, "kafka.strimzi.enabled", true));
        assertFalse(all.contains("not implemented") || all.contains("issue 9") || all.contains("authenticating gateway"), all);
        assertTrue(all.contains("TLS:      on (mutual TLS, QUARKUS_PROFILE=prod,tls,mtls"), all);
        assertTrue(all.contains("API keys: on") && all.contains("at most 2 asks per key"), all);
        assertTrue(all.contains("GPU: encoders request nvidia.com/gpu") && all.contains("pcw.backend=cuda"), all);
        assertTrue(all.contains("Kafka: " + FULLNAME + "-kafka-bootstrap." + NAMESPACE + ".svc:9092 (Strimzi cluster"), all);
    }

    @Test
    void theChartsReadmeSizingUsesTheDemoModelsShape() {
        Map<String, Object> cfg = Yaml.mapAt(Yaml.load(Repository.read("models/demo/summary.json")), "config");
        int layers = (Integer) cfg.get("layers"), kvHeads = (Integer) cfg.get("kv_heads"), headDim = (Integer) cfg.get("dim") / (Integer) cfg.get("heads");
        long f16 = 2L * layers * kvHeads * headDim * 2;
        String readme = Repository.read(HelmChart.CHART.resolve("README.md"));
        assertTrue(readme.contains("| pcw-demo (this repository) | " + layers + " | " + kvHeads + " | " + headDim + " | " + String.format("%,d", f16) + " |"),
                "the sizing table's demo row is 2 × layers × kv heads × head dim × 2 bytes = " + f16);
    }
}
