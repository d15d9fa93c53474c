package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.gguf.GgufFile;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Where the local mesh keeps its state and which ports it uses: shared by {@code pcw mesh},
 * {@code pcw ingest}, {@code pcw ask} and {@code pcw demo}. A port not given is the one the last
 * {@code pcw mesh up} in that state directory used, else the default.
 */
public final class MeshOptions {
    @Option(names = "--state", paramLabel = "DIR", description = "state directory: logs, pids, broker data (default: .mesh in the repository)")
    Path state;

    @Option(names = "--kafka-port", paramLabel = "PORT", description = "Kafka broker port (default: 9092; its controller uses the next port)")
    Integer kafkaPort;

    @Option(names = "--chunker-port", paramLabel = "PORT", description = "chunker gRPC/HTTP port (default: 9101)")
    Integer chunkerPort;

    @Option(names = "--encoder-port", paramLabel = "PORT", description = "encoder gRPC/HTTP port (default: 9102)")
    Integer encoderPort;

    @Option(names = "--generator-port", paramLabel = "PORT", description = "generator gRPC/HTTP port (default: 9103)")
    Integer generatorPort;

    /** The repository: where {@code ./pcw} runs from. */
    static Path home() {
        return Path.of(System.getProperty("pcw.home", ".")).toAbsolutePath().normalize();
    }

    Path stateDir() {
        return state != null ? state.toAbsolutePath() : home().resolve(".mesh");
    }

    Map<String, Integer> ports() {
        Properties saved = Mesh.savedState(stateDir());
        Map<String, Integer> ports = Mesh.defaultPorts();
        ports.replaceAll((name, port) -> Integer.parseInt(saved.getProperty(name + ".port", Integer.toString(port))));
        if (kafkaPort != null) {
            ports.put("kafka", kafkaPort);
            ports.put("controller", kafkaPort + 1);
        }
        if (chunkerPort != null) ports.put("chunker", chunkerPort);
        if (encoderPort != null) ports.put("encoder", encoderPort);
        if (generatorPort != null) ports.put("generator", generatorPort);
        return ports;
    }

    /** {@code localhost:PORT} of a service. */
    String address(String service) {
        return "localhost:" + ports().get(service);
    }

    /**
     * The mesh these options describe, running {@code model} (null: the saved one, else the shipped
     * demo model) with chunker windows of {@code windowTokens} (null: {@link #defaultWindowTokens}).
     */
    Mesh mesh(Path model, Integer windowTokens, java.io.PrintWriter log) {
        Path m = model != null ? model.toAbsolutePath()
                : Path.of(Mesh.savedState(stateDir()).getProperty("model", home().resolve("models/pcw-demo.gguf").toString()));
        String brokerClasspath = home().resolve("cli/target/lib").toString() + "/*";
        int w = windowTokens != null ? windowTokens : defaultWindowTokens(m);
        return new Mesh(new Mesh.Layout(home(), stateDir(), m, brokerClasspath, ports(), w, Path.of(System.getProperty("java.home"))), log);
    }

    /** 70% of the model's trained context (512 when the file does not say): windows leave room for the question and the answer. */
    static int defaultWindowTokens(Path model) {
        if (!java.nio.file.Files.isRegularFile(model)) return 512;
        try (GgufFile file = GgufFile.open(model)) {
            int context = file.findString("general.architecture").map(a -> file.getInt(a + ".context_length", 0)).orElse(0);
            return context > 0 ? context * 7 / 10 : 512;
        }
    }
}
