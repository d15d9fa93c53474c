package dev.pcwmesh.cli;

import dev.pcwmesh.client.MeshClient;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The whole mesh on this machine with the shipped demo model: start it, ingest a sample document
 * many windows long, ask questions about its start, middle and end (each answer streams, then its
 * figures: the first question encodes the windows, later ones find them cached), stop it.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start the mesh, ingest a long sample document, ask questions about it, stop the mesh.")
public final class DemoCommand implements Callable<Integer> {
    static final String DOCUMENT = "models/demo/sample-document.txt";
    static final String QUESTIONS = "models/demo/sample-questions.tsv";

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model (default: models/pcw-demo.gguf)")
    Path model;

    @Option(names = "--doc", paramLabel = "FILE", description = "document to ingest (default: " + DOCUMENT + ")")
    Path document;

    @Option(names = {"-q", "--question"}, paramLabel = "TEXT", description = "question to ask (repeatable; default: those in " + QUESTIONS + ")")
    List<String> questions;

    @Option(names = {"-s", "--strategy"}, defaultValue = "parallel", paramLabel = "NAME", description = "context strategy (default: ${DEFAULT-VALUE})")
    String strategy;

    @Option(names = "--window-tokens", paramLabel = "N",
            description = "the chunker's window size W (default: 70%% of the model's trained context, leaving room for the question and answer)")
    Integer windowTokens;

    @Option(names = "--keep", description = "leave the mesh running afterwards (pcw mesh down stops it)")
    boolean keep;

    @Mixin MeshOptions options;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path home = MeshOptions.home();
        Path doc = document != null ? document : home.resolve(DOCUMENT);
        List<String[]> asks = questions != null ? questions.stream().map(q -> new String[] {q, ""}).toList() : sampleQuestions(home.resolve(QUESTIONS));

        Mesh mesh = options.mesh(model != null ? model : home.resolve("models/pcw-demo.gguf"), windowTokens, out);
        out.println("== starting the mesh (Kafka broker, chunker, encoder, generator) ==");
        long t0 = System.nanoTime();
        mesh.up(Duration.ofMinutes(5));
        out.printf("mesh ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        try (MeshClient client = MeshClient.connect(options.address("chunker"), options.address("generator"), Duration.ofMinutes(5), MeshClient.Security.fromEnvironment())) {
            out.printf("%n== ingesting %s ==%n", home.relativize(doc.toAbsolutePath().normalize()));
            DocumentManifest m = client.ingest(Files.readAllBytes(doc), IngestCommand.mediaTypeOf(doc), null);
            out.printf("document %s: %d windows, %d tokens (the model was trained on %d-token windows)%n", m.getDocumentId().substring(0, 16),
                    m.getWindowCount(), m.getWindowTokensList().stream().mapToInt(Integer::intValue).sum(), m.getMaxWindowTokens());
            for (String[] q : asks) {
                out.printf("%nQ: %s%nA:", q[0]);
                out.flush();
                AskRequest request = AskRequest.newBuilder().addDocumentIds(m.getDocumentId()).setQuestion(q[0])
                        .setStrategy(StrategySpec.newBuilder().setName(strategy)).setSampling(Sampling.newBuilder().setMaxTokens(48).addStop("\n")).build();
                AnswerFigures f = client.ask(request, text -> {
                    out.print(text);
                    out.flush();
                });
                out.println();
                if (!q[1].isEmpty()) out.println("   expected: " + q[1]);
                out.println("   " + AskCommand.figures(f));
            }
        } finally {
            if (keep) {
                out.printf("%nthe mesh keeps running (state in %s): ./pcw ingest FILE, ./pcw ask DOC_ID \"question\", ./pcw mesh down%n", options.stateDir());
            } else {
                out.printf("%n== stopping the mesh ==%n");
                mesh.down();
            }
            out.flush();
        }
        return 0;
    }

    /** Question and expected answer per line of the tab-separated file (lines starting with # are comments). */
    static List<String[]> sampleQuestions(Path file) throws java.io.IOException {
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank() && !l.startsWith("#"))
                .map(l -> l.split("\t")).map(p -> new String[] {p[1], p.length > 2 ? p[2] : ""}).toList();
    }
}
