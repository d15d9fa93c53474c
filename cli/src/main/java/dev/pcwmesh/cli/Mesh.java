package dev.pcwmesh.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A mesh on one machine, without Docker: a single-node KRaft Kafka broker run from Kafka's own jars
 * ({@code kafka.tools.StorageTool} to format, {@code kafka.Kafka} to serve) and the three services'
 * built applications, each a background process with its log and pid under a state directory.
 * The broker's data stays there between {@code up}s, so documents and segment locations survive a
 * restart of the whole mesh.
 *
 * <p>The state directory holds {@code mesh.properties} (ports, model, pids), {@code <name>.log} and
 * {@code kafka/} (broker configuration and data).
 */
public final class Mesh {
    /** The processes of a mesh, in start order. */
    public static final List<String> PROCESSES = List.of("kafka", "chunker", "encoder", "generator");
    /** The services, each a Quarkus application under {@code <name>-service/target/quarkus-app}. */
    public static final List<String> SERVICES = List.of("chunker", "encoder", "generator");

    /**
     * Where things are and which ports to use.
     *
     * @param home            the repository (services' built applications, the Maven wrapper)
     * @param state           the state directory
     * @param model           the GGUF model every service loads
     * @param brokerClasspath class path with Kafka's broker jars
     * @param ports           port by process name (kafka, controller, chunker, encoder, generator)
     * @param windowTokens    the chunker's window size W
     * @param javaHome        the JDK to run services with
     */
    public record Layout(Path home, Path state, Path model, String brokerClasspath, Map<String, Integer> ports, int windowTokens, Path javaHome) {
        public int port(String name) { return ports.get(name); }

        public String bootstrap() { return "localhost:" + port("kafka"); }

        public String address(String service) { return "localhost:" + port(service); }

        public Path app(String service) { return home.resolve(service + "-service/target/quarkus-app/quarkus-run.jar"); }

        public Path log(String name) { return state.resolve(name + ".log"); }
    }

    /** Default ports: Kafka 9092 (controller 9093), chunker 9101, encoder 9102, generator 9103. */
    public static Map<String, Integer> defaultPorts() {
        Map<String, Integer> p = new LinkedHashMap<>();
        p.put("kafka", 9092);
        p.put("controller", 9093);
        p.put("chunker", 9101);
        p.put("encoder", 9102);
        p.put("generator", 9103);
        return p;
    }

    private static final String JVM_FLAGS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow";

    private final Layout layout;
    private final PrintWriter log;

    public Mesh(Layout layout, PrintWriter log) {
        this.layout = layout;
        this.log = log;
    }

    public Layout layout() { return layout; }

    // ------------------------------------------------------------------ up

    /** Starts whatever of the mesh is not running and waits until every part is ready. */
    public void up(Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(layout.state());
        for (String s : SERVICES) {
            if (!Files.isRegularFile(layout.app(s))) {
                throw new IllegalStateException(layout.app(s) + " is missing: build the services first ("
                        + "./mvnw -DskipTests -pl chunker-service,encoder-service,generator-service -am package)");
            }
        }
        if (!Files.isRegularFile(layout.model())) throw new IllegalStateException("no model file " + layout.model());
        Properties state = readState();
        saveLayout(state);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String name : PROCESSES) {
            Optional<ProcessHandle> running = process(state, name);
            if (running.isPresent()) {
                log.printf("%-9s already running (pid %d)%n", name, running.get().pid());
            } else {
                Process p = name.equals("kafka") ? startBroker() : startService(name);
                state.setProperty(name + ".pid", Long.toString(p.pid()));
                writeState(state);
                log.printf("%-9s started (pid %d), log %s%n", name, p.pid(), layout.log(name));
            }
            log.flush();
            awaitReady(name, deadline);
            log.printf("%-9s ready on port %d%n", name, layout.port(name));
            log.flush();
        }
    }

    private Process startBroker() throws IOException, InterruptedException {
        Path dir = layout.state().resolve("kafka");
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Path config = dir.resolve("server.properties");
        int port = layout.port("kafka"), controller = layout.port("controller");
        Files.writeString(config, String.join("\n",
                "# Written by pcw mesh up: a single-node KRaft broker (broker and controller in one process).",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.bootstrap.servers=localhost:" + controller,
                "listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controller,
                "advertised.listeners=PLAINTEXT://localhost:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + data.toAbsolutePath(),
                "num.partitions=8",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "message.max.bytes=20971520",
                ""));
        if (!Files.exists(data.resolve("meta.properties"))) {
            Process format = java(List.of("-cp", layout.brokerClasspath(), "kafka.tools.StorageTool", "format",
                    "-t", UUID.randomUUID().toString().replace("-", "").substring(0, 22), "-c", config.toString(), "--standalone"), "kafka-format");
            if (!format.waitFor(120, TimeUnit.SECONDS) || format.exitValue() != 0) {
                throw new IllegalStateException("formatting the broker's storage failed; see " + layout.log("kafka-format"));
            }
        }
        return java(List.of("-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-cp", layout.brokerClasspath(), "kafka.Kafka", config.toString()), "kafka");
    }

    private Process startService(String name) throws IOException {
        List<String> args = new ArrayList<>(List.of("-XX:+UseParallelGC", "-Xss8m",
                "-Dquarkus.http.port=" + layout.port(name),
                "-Dkafka.bootstrap.servers=" + layout.bootstrap(),
                "-Dpcw.model=" + layout.model().toAbsolutePath()));
        if (name.equals("chunker")) args.add("-Dpcw.window-tokens=" + layout.windowTokens());
        if (name.equals("encoder")) {
            args.add("-Dpcw.encoder.advertised-address=" + layout.address("encoder"));
            args.add("-Dpcw.store.disk-dir=" + layout.state().resolve("encoder-segments").toAbsolutePath());
        }
        args.addAll(List.of("-jar", layout.app(name).toString()));
        return java(args, name);
    }

    /** A background JVM with the runtime's flags, its output appended to {@code <name>.log}. */
    private Process java(List<String> args, String name) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(layout.javaHome().resolve("bin/java").toString());
        command.addAll(List.of(JVM_FLAGS.split(" ")));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(layout.state().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(layout.log(name).toFile()));
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        return pb.start();
    }

    private void awaitReady(String name, long deadline) throws InterruptedException {
        String problem = "not checked";
        while (System.nanoTime() < deadline) {
            problem = readiness(name);
            if (problem == null) return;
            Properties state = readState();
            if (process(state, name).isEmpty()) {
                throw new IllegalStateException(name + " exited while starting (" + problem + "); last lines of " + layout.log(name)
                        + ":\n" + tail(layout.log(name), 20));
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(name + " not ready in time: " + problem + "; see " + layout.log(name));
    }

    /** Null when the part answers as ready, else why not. */
    public String readiness(String name) {
        if (name.equals("kafka")) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, layout.bootstrap());
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000);
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
            try (Admin admin = Admin.create(p)) {
                admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                return null;
            } catch (Exception e) {
                return "broker not answering: " + e.getClass().getSimpleName();
            }
        }
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + layout.port(name) + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? null : "readiness " + r.statusCode() + ": " + r.body().replaceAll("\\s+", " ");
        } catch (IOException e) {
            return "not answering on port " + layout.port(name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    // ------------------------------------------------------------------ status and down

    /** One line per process: pid, running or not, readiness. */
    public boolean status() {
        Properties state = readState();
        boolean allReady = true;
        for (String name : PROCESSES) {
            Optional<ProcessHandle> p = process(state, name);
            String ready = p.isEmpty() ? "stopped" : Optional.ofNullable(readiness(name)).orElse("ready");
            allReady &= ready.equals("ready");
            log.printf("%-9s %-8s port %-5d %s%n", name, p.map(h -> "pid " + h.pid()).orElse("-"), layout.port(name), ready);
        }
        log.flush();
        return allReady;
    }

    /** Stops the services, then the broker (politely, then forcibly after 30 s); the broker's data stays. */
    public void down() throws InterruptedException {
        Properties state = readState();
        List<String> order = new ArrayList<>(PROCESSES);
        java.util.Collections.reverse(order);
        for (String name : order) {
            Optional<ProcessHandle> p = process(state, name);
            if (p.isEmpty()) continue;
            stop(p.get());
            state.remove(name + ".pid");
            log.printf("%-9s stopped%n", name);
            log.flush();
        }
        writeState(state);
    }

    /** Stops one process (for tests: kill a service and start it again with {@link #up}). */
    public void stop(String name, boolean forcibly) throws InterruptedException {
        Properties state = readState();
        Optional<ProcessHandle> p = process(state, name);
        if (p.isEmpty()) return;
        if (forcibly) {
            p.get().destroyForcibly();
            p.get().onExit().orTimeout(30, TimeUnit.SECONDS).join();
        } else {
            stop(p.get());
        }
    }

    private static void stop(ProcessHandle p) throws InterruptedException {
        p.destroy();
        try {
            p.onExit().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            p.destroyForcibly();
            p.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        }
    }

    // ------------------------------------------------------------------ state

    /** The running process the state file names, if it is still alive and still a java process. */
    private static Optional<ProcessHandle> process(Properties state, String name) {
        String pid = state.getProperty(name + ".pid");
        if (pid == null) return Optional.empty();
        return ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive)
                .filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(true));
    }

    private Properties readState() {
        Properties p = new Properties();
        Path file = layout.state().resolve("mesh.properties");
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return p;
    }

    private void saveLayout(Properties state) {
        layout.ports().forEach((k, v) -> state.setProperty(k + ".port", Integer.toString(v)));
        state.setProperty("model", layout.model().toAbsolutePath().toString());
        writeState(state);
    }

    private void writeState(Properties state) {
        Path file = layout.state().resolve("mesh.properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            state.store(out, "pcw mesh: ports, model and pids of the running mesh");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ports and model saved by the last {@code up} in this state directory (empty when none). */
    public static Properties savedState(Path stateDir) {
        Properties p = new Properties();
        Path file = stateDir.resolve("mesh.properties");
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return p;
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read: " + e.getMessage() + ")";
        }
    }
}
