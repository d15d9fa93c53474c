package dev.pcwmesh.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The images' Dockerfiles (deploy/docker/&lt;service&gt;/Dockerfile.jvm, Dockerfile.cuda) against the build:
 * Docker cannot run here, so each file is parsed and held to what the Maven build produces and what the
 * services need at run time.
 */
class DockerfilesTest {

    /** Every Dockerfile the project ships: a JVM image per service, a CUDA image for encoder and generator. */
    static Stream<Path> dockerfiles() {
        return Stream.of("chunker/Dockerfile.jvm", "encoder/Dockerfile.jvm", "encoder/Dockerfile.cuda",
                "generator/Dockerfile.jvm", "generator/Dockerfile.cuda").map(f -> Repository.path("deploy/docker/" + f));
    }

    static ServiceModule serviceOf(Path dockerfile) {
        return ServiceModule.of(dockerfile.getParent().getFileName().toString());
    }

    @Test
    void theDockerfilesAreExactlyTheOnesChecked() throws IOException {
        Set<String> present = new TreeSet<>();
        try (Stream<Path> s = Files.walk(Repository.path("deploy/docker"))) {
            s.filter(Files::isRegularFile).forEach(p -> present.add(Repository.path("deploy/docker").relativize(p).toString()));
        }
        Set<String> checked = new TreeSet<>();
        dockerfiles().forEach(p -> checked.add(Repository.path("deploy/docker").relativize(p).toString()));
        assertEquals(checked, present, "every file under deploy/docker is a Dockerfile these tests check");
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void buildStageBuildsTheServiceModuleWithTheMavenWrapperOnJdk25(Path file) {
        Dockerfile d = Dockerfile.parse(file);
        ServiceModule service = serviceOf(file);
        Repository.ParentPom pom = Repository.parentPom();
        assertTrue(d.parserDirectives().stream().anyMatch(l -> l.startsWith("syntax=docker/dockerfile:1")),
                "BuildKit syntax directive (RUN --mount needs it)");
        Dockerfile.Stage build = d.stage("build");
        assertEquals("eclipse-temurin:" + pom.properties().get("maven.compiler.release") + "-jdk", build.image(),
                "built on the JDK of maven.compiler.release");
        assertEquals("/src", build.only("WORKDIR").arguments());
        assertEquals(". .", build.only("COPY").arguments(), "the whole context (.dockerignore trims it): the reactor needs every module's pom");
        String run = build.only("RUN").arguments();
        assertTrue(run.contains("./mvnw "), "the Maven wrapper: " + run);
        assertTrue(Files.isRegularFile(Repository.path("mvnw")) && Files.isRegularFile(Repository.path(".mvn/wrapper/maven-wrapper.properties")));
        List<String> words = Arrays.asList(run.split("\\s+"));
        int pl = words.indexOf("-pl");
        assertTrue(pl > 0, "builds one module: " + run);
        assertEquals(service.module(), words.get(pl + 1), "builds the service the image runs");
        assertTrue(pom.modules().contains(words.get(pl + 1)), words.get(pl + 1) + " is a module of the parent pom");
        assertTrue(words.contains("-am") && words.contains("package"), "with the modules it depends on, to package: " + run);
        assertTrue(words.contains("-DskipTests"), "tests compiled (test jars are dependencies) but not run: " + run);
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void jreStageLinksACompressedRuntimeWithTheVectorModule(Path file) {
        Dockerfile d = Dockerfile.parse(file);
        Dockerfile.Stage jre = d.stage("jre");
        assertEquals(d.stage("build").image(), jre.image(), "jlink of the same JDK the application was built with");
        List<String> modules = jlinkModules(d);
        assertTrue(modules.contains("java.base") && modules.contains("jdk.incubator.vector"), "modules: " + modules);
        String run = jre.only("RUN").arguments();
        assertTrue(run.startsWith("jlink --add-modules \"${JLINK_MODULES}\""), run);
        assertTrue(run.contains("--compress=zip-"), "compressed: " + run);
        assertTrue(run.contains("--output /opt/jre"), run);
        assertTrue(d.last().instructions().contains(new Dockerfile.Instruction("COPY", "--from=jre /opt/jre /opt/jre")), "the final stage runs that runtime");
        assertEquals("/opt/jre", d.last().env().get("JAVA_HOME"));
        assertTrue(d.last().env().get("PATH").startsWith("/opt/jre/bin:"), "java on the PATH is the linked one");
    }

    static List<String> jlinkModules(Dockerfile d) {
        String value = d.stage("jre").args().get("JLINK_MODULES");
        if (value == null || value.isBlank()) throw new AssertionError(d.file() + ": no ARG JLINK_MODULES in the jre stage");
        if (value.contains(" ")) throw new AssertionError(d.file() + ": JLINK_MODULES holds a space (jlink would see two arguments)");
        return List.of(value.split(","));
    }

    /**
     * Every JDK module that any class of the three built applications refers to is in every image's
     * runtime (the modules jlink adds for the listed ones included). Needs the services built.
     */
    @Test
    void linkedRuntimeHoldsEveryJdkModuleTheApplicationsReferTo() {
        List<Path> apps = new ArrayList<>();
        for (ServiceModule s : ServiceModule.all()) {
            Path app = s.dir().resolve("target/quarkus-app");
            Repository.assumeBuilt(app.resolve("quarkus-run.jar"), s.name() + "'s application");
            apps.add(app);
        }
        Map<String, Set<String>> used = JdkModulesUsed.scan(apps);
        assertTrue(used.containsKey("jdk.incubator.vector"), "the scan sees the runtime's Vector API use: " + used.keySet());
        dockerfiles().forEach(file -> {
            Set<String> image = JdkModulesUsed.jlinkImage(jlinkModules(Dockerfile.parse(file)));
            List<String> missing = used.keySet().stream().filter(m -> !image.contains(m))
                    .map(m -> m + " (used by " + used.get(m) + ")").toList();
            assertTrue(missing.isEmpty(), file + ": the linked runtime lacks " + missing);
        });
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void finalStageCopiesTheQuarkusFastJarTheBuildProduces(Path file) throws IOException {
        Dockerfile d = Dockerfile.parse(file);
        ServiceModule service = serviceOf(file);
        String from = "/src/" + service.module() + "/target/quarkus-app/";
        assertEquals("/app", d.last().only("WORKDIR").arguments());
        Set<String> copied = new TreeSet<>();
        for (Dockerfile.Instruction copy : d.last().all("COPY")) {
            String[] parts = copy.arguments().split("\\s+");
            if (!parts[0].equals("--from=build")) continue;
            assertEquals(3, parts.length, "one source, one destination: " + copy);
            assertTrue(parts[1].startsWith(from), "copies " + service.module() + "'s build output: " + copy);
            String entry = parts[1].substring(from.length());
            assertEquals("/app/" + entry, parts[2], "keeps the fast-jar layout (quarkus-run.jar finds lib/, app/, quarkus/ beside it)");
            copied.add(entry.replaceAll("/$", ""));
        }
        assertEquals(Set.of("app", "lib", "quarkus", "quarkus-run.jar"), copied);
        String entrypoint = d.last().only("ENTRYPOINT").arguments();
        assertTrue(entrypoint.contains("-jar /app/quarkus-run.jar"), entrypoint);

        Path built = service.dir().resolve("target/quarkus-app");
        Repository.assumeBuilt(built.resolve("quarkus-run.jar"), service.name() + "'s application");
        Set<String> produced = new TreeSet<>();
        try (Stream<Path> s = Files.list(built)) {
            s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("quarkus-app-dependencies.txt")).forEach(produced::add);
        }
        assertEquals(produced, copied, "the image copies every part of " + built + " the application runs from");
        assertTrue(Files.isDirectory(built.resolve("lib/main")) && Files.isDirectory(built.resolve("app")));
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void runsAsANonRootUserWithTheRuntimeFlagsAndAContainerAwareHeap(Path file) {
        Dockerfile d = Dockerfile.parse(file);
        String user = d.last().only("USER").arguments();
        assertFalse(user.equals("root") || user.startsWith("0"), "not root: " + user);
        assertTrue(user.matches("\\d+:\\d+"), "numeric, so runAsNonRoot can check it: " + user);
        assertTrue(d.last().all("RUN").stream().anyMatch(r -> r.arguments().contains("useradd --system --uid " + user.split(":")[0])),
                "the user exists in the image");

        Map<String, String> env = d.last().env();
        List<String> flags = List.of(env.get("PCW_JVM_FLAGS").split("\\s+"));
        assertEquals(expectedJvmFlags(), flags, "the parent pom's pcw.jvm.flags plus what pcw mesh adds for services");
        String heap = env.get("JAVA_HEAP_OPTS");
        assertTrue(heap.contains("-XX:MaxRAMPercentage="), "the heap follows the container's memory limit: " + heap);
        assertFalse(heap.contains("-Xmx"), "no fixed heap: " + heap);
        assertEquals("[\"/bin/sh\", \"-c\", \"exec java $PCW_JVM_FLAGS $JAVA_HEAP_OPTS $JAVA_OPTS -jar /app/quarkus-run.jar\"]",
                d.last().only("ENTRYPOINT").arguments(), "java replaces the shell (signals reach it) and takes every flag variable");
    }

    /**
     * The flags a service runs with: the parent pom's pcw.jvm.flags (which Mesh.JVM_FLAGS must equal), then
     * the ones Mesh.startService adds (-XX:+UseParallelGC -Xss8m), read from the sources, not assumed.
     */
    static List<String> expectedJvmFlags() {
        String pomFlags = Repository.parentPom().properties().get("pcw.jvm.flags");
        String mesh = Repository.read("cli/src/main/java/dev/pcwmesh/cli/Mesh.java");
        Matcher constant = Pattern.compile("JVM_FLAGS\\s*=\\s*\"([^\"]+)\"").matcher(mesh);
        assertTrue(constant.find(), "Mesh.JVM_FLAGS");
        assertEquals(pomFlags, constant.group(1), "pcw mesh and the pom agree on the runtime's flags");
        Matcher service = Pattern.compile("Process startService\\(String \\w+\\)[^{]*\\{[^}]*?List\\.of\\(((?:\\s*\"-[^\"]+\"\\s*,)+)").matcher(mesh);
        assertTrue(service.find(), "Mesh.startService's JVM options");
        List<String> flags = new ArrayList<>(List.of(pomFlags.split("\\s+")));
        Matcher each = Pattern.compile("\"(-[^\"]+)\"").matcher(service.group(1));
        while (each.find()) if (!each.group(1).startsWith("-D")) flags.add(each.group(1));
        assertTrue(flags.containsAll(List.of("-XX:+UseParallelGC", "-Xss8m")), "read " + flags);
        return flags;
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void exposesTheServicePortAndChecksItsReadiness(Path file) {
        Dockerfile d = Dockerfile.parse(file);
        ServiceModule service = serviceOf(file);
        assertEquals(String.valueOf(service.port()), d.last().only("EXPOSE").arguments());
        String check = d.last().only("HEALTHCHECK").arguments();
        assertTrue(check.contains("CMD curl -fsS"), check);
        assertTrue(check.contains("http://127.0.0.1:${QUARKUS_HTTP_PORT:-" + service.port() + "}" + service.health("ready")), check);
        assertTrue(service.consumesEnvironment("QUARKUS_HTTP_PORT"), "QUARKUS_HTTP_PORT is the service's quarkus.http.port");
        assertTrue(d.last().all("RUN").stream().anyMatch(r -> r.arguments().contains("install -y --no-install-recommends ca-certificates curl")),
                "curl is installed for the health check");
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void theModelIsMountedNeverBakedIn(Path file) {
        Dockerfile d = Dockerfile.parse(file);
        ServiceModule service = serviceOf(file);
        for (Dockerfile.Stage stage : d.stages()) {
            for (Dockerfile.Instruction i : stage.instructions()) {
                if (i.keyword().equals("COPY") || i.keyword().equals("ADD")) {
                    assertFalse(i.arguments().contains(".gguf") || i.arguments().matches(".*\\bmodels\\b.*"), "no model copied: " + i);
                }
            }
        }
        String model = d.last().env().get("PCW_MODEL");
        assertTrue(model.startsWith("/models/") && model.endsWith(".gguf"), "PCW_MODEL points into the mounted /models: " + model);
        assertTrue(service.referencedEnvironment().contains("PCW_MODEL"), service.name() + " reads pcw.model from PCW_MODEL");
        DockerIgnore ignore = DockerIgnore.parse(Repository.read(".dockerignore"));
        assertTrue(ignore.excludes("models/pcw-demo.gguf") && ignore.excludes("anything/else/model.gguf"), "models stay out of the build context");
    }

    @Test
    void encoderImagesKeepTheSegmentStoreOnAVolume() {
        ServiceModule encoder = ServiceModule.of("encoder");
        assertTrue(encoder.properties().getProperty("pcw.store.disk-dir").startsWith("${PCW_ENCODER_DISK_DIR:"),
                "the encoder reads its disk directory from PCW_ENCODER_DISK_DIR");
        for (String variant : List.of("jvm", "cuda")) {
            Dockerfile d = Dockerfile.parse(Repository.path("deploy/docker/encoder/Dockerfile." + variant));
            String dir = d.last().env().get("PCW_ENCODER_DISK_DIR");
            assertTrue(dir != null && dir.startsWith("/"), "an absolute disk directory: " + dir);
            assertEquals("[\"" + dir + "\"]", d.last().only("VOLUME").arguments(), "the directory is a volume");
            assertTrue(d.last().all("RUN").stream().anyMatch(r -> r.arguments().contains("chown pcw:pcw " + dir)), "owned by the service's user");
        }
        for (String other : List.of("chunker/Dockerfile.jvm", "generator/Dockerfile.jvm", "generator/Dockerfile.cuda")) {
            assertTrue(Dockerfile.parse(Repository.path("deploy/docker/" + other)).last().all("VOLUME").isEmpty(), other + " keeps no state");
        }
    }

    @Test
    void cudaImagesAreTheJvmImagesOnACudaRuntimeBase() {
        Pattern cuda = Pattern.compile("nvidia/cuda:12\\.\\d+(\\.\\d+)?-runtime-ubuntu24\\.04");
        for (String service : List.of("encoder", "generator")) {
            Dockerfile jvm = Dockerfile.parse(Repository.path("deploy/docker/" + service + "/Dockerfile.jvm"));
            Path file = Repository.path("deploy/docker/" + service + "/Dockerfile.cuda");
            Dockerfile gpu = Dockerfile.parse(file);
            assertTrue(cuda.matcher(gpu.last().image()).matches(), "CUDA 12 runtime on Ubuntu 24.04: " + gpu.last().image());
            assertTrue(jvm.last().image().startsWith("debian:"), jvm.last().image());
            assertNotEquals(jvm.last().image(), gpu.last().image());
            assertEquals(jvm.stages().size(), gpu.stages().size());
            for (int i = 0; i < jvm.stages().size(); i++) {
                List<Dockerfile.Instruction> onGpu = new ArrayList<>(gpu.stages().get(i).instructions());
                if (i == jvm.stages().size() - 1) {
                    // The one addition: the service runs its model on CUDA, kernels cached where it may write.
                    Dockerfile.Instruction backend = onGpu.stream()
                            .filter(in -> in.keyword().equals("ENV") && in.arguments().contains("PCW_BACKEND=cuda")).findFirst()
                            .orElseThrow(() -> new AssertionError(service + ": the CUDA image must set PCW_BACKEND=cuda"));
                    assertTrue(backend.arguments().contains("PCW_CUDA_CACHE=/tmp/"), "kernel cache in a writable place: " + backend.arguments());
                    onGpu.remove(backend);
                }
                assertEquals(jvm.stages().get(i).instructions(), onGpu,
                        service + ": stage " + jvm.stages().get(i).name() + " differs between the JVM and CUDA images beyond the base image and the backend");
            }
        }
    }

    /** The context the images build from: every module's pom and sources in, build outputs and state out. */
    @Test
    void dockerignoreKeepsEveryModuleAndDropsOutputsStateAndModels() {
        DockerIgnore ignore = DockerIgnore.parse(Repository.read(".dockerignore"));
        Set<String> kept = new LinkedHashSet<>(List.of("pom.xml", "mvnw", ".mvn/wrapper/maven-wrapper.properties"));
        for (String module : Repository.parentPom().modules()) {
            kept.add(module + "/pom.xml");
            kept.add(module + "/src/main/java/Some.java");
            kept.add(module + "/src/main/resources/application.properties");
        }
        kept.add("proto/src/main/resources/pcwmesh/v1/mesh.proto");
        for (String path : kept) assertFalse(ignore.excludes(path), ".dockerignore drops " + path + ", which the build needs");
        for (String path : List.of("chunker-service/target/quarkus-app/quarkus-run.jar", "runtime/target/classes/A.class",
                ".git/HEAD", ".mesh/mesh.properties", "models/pcw-demo.gguf", "models/demo/train.py")) {
            assertTrue(ignore.excludes(path), ".dockerignore keeps " + path + " in the context");
        }
        // Self-check of the matcher on a pattern that must not over-match.
        assertFalse(DockerIgnore.parse("**/target\n").excludes("targets/x"));
        assertTrue(DockerIgnore.parse("**/target\n!keep/target\n").excludes("a/target/b"));
        assertFalse(DockerIgnore.parse("**/target\n!keep/target\n").excludes("keep/target/b"));
    }

    /**
     * Files outside a module that the modules an image builds (the service and, transitively, the
     * project modules it depends on) read through ${project.basedir}/.. stay in the build context.
     */
    @Test
    void theImagesModulesReadNothingTheContextLeavesOut() {
        DockerIgnore ignore = DockerIgnore.parse(Repository.read(".dockerignore"));
        Map<String, String> moduleOfArtifact = new java.util.HashMap<>();
        Map<String, String> poms = new java.util.HashMap<>();
        for (String module : Repository.parentPom().modules()) {
            String pom = Repository.read(module + "/pom.xml");
            poms.put(module, pom);
            Matcher id = Pattern.compile("</parent>\\s*<artifactId>([^<]+)</artifactId>").matcher(pom);
            assertTrue(id.find(), module);
            moduleOfArtifact.put(id.group(1), module);
        }
        for (ServiceModule service : ServiceModule.all()) {
            Set<String> closure = new TreeSet<>();
            java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(service.module()));
            while (!todo.isEmpty()) {
                String module = todo.pop();
                if (!closure.add(module)) continue;
                Matcher dep = Pattern.compile("<groupId>dev\\.pcwmesh</groupId>\\s*<artifactId>([^<]+)</artifactId>").matcher(poms.get(module));
                while (dep.find()) if (moduleOfArtifact.containsKey(dep.group(1))) todo.push(moduleOfArtifact.get(dep.group(1)));
            }
            assertTrue(closure.containsAll(List.of("runtime", "proto", "service-common")), service.name() + " builds " + closure);
            for (String module : closure) {
                Matcher outside = Pattern.compile("\\$\\{project\\.basedir}/\\.\\./([^<\"\\s]+)").matcher(poms.get(module));
                while (outside.find()) {
                    String path = Path.of(outside.group(1)).normalize().toString();
                    assertFalse(ignore.excludes(path) || ignore.excludes(path + "/x"), module + " reads " + path + ", which .dockerignore leaves out of "
                            + service.name() + "'s image build");
                }
            }
        }
    }

    @Test
    void mavenModulesTheImagesBuildExist() {
        for (Path file : dockerfiles().toList()) {
            ServiceModule s = serviceOf(file);
            assertTrue(Files.isRegularFile(s.dir().resolve("pom.xml")), s.module());
            if (!Repository.read(s.dir().resolve("pom.xml")).contains("<artifactId>quarkus-maven-plugin</artifactId>")) {
                fail(s.module() + " is not a Quarkus application: no target/quarkus-app to copy");
            }
        }
    }
}
