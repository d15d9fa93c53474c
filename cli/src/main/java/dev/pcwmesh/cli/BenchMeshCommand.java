package dev.pcwmesh.cli;

import dev.pcwmesh.client.MeshClient;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Document;
import dev.pcwmesh.runtime.context.LocalSegments;
import dev.pcwmesh.runtime.context.PlanRequest;
import dev.pcwmesh.runtime.context.StrategySettings;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.generate.TokenListener;
import dev.pcwmesh.runtime.model.Model;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Figures of the mesh against the runtime in process, on a running mesh: time to first token with
 * and without the mesh, the KV transfer rate the generator sees over loopback gRPC, and throughput
 * with concurrent askers. Each round ingests the document under a fresh instruction, so its segments
 * are new to every service and the first ask really fetches them; the first round only warms up.
 */
@Command(name = "mesh", mixinStandardHelpOptions = true,
        description = "Time to first token through the running mesh and in process, KV transfer rate, and throughput with concurrent askers (Markdown).")
public final class BenchMeshCommand implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--doc", paramLabel = "FILE", description = "document (default: " + DemoCommand.DOCUMENT + ")")
    Path document;

    @Option(names = "--askers", defaultValue = "8", paramLabel = "N", description = "concurrent askers (default: ${DEFAULT-VALUE})")
    int askers;

    @Option(names = "--asks", defaultValue = "3", paramLabel = "N", description = "questions per asker (default: ${DEFAULT-VALUE})")
    int asksPerAsker;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "24", paramLabel = "N", description = "answer tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Mixin MeshOptions options;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path home = MeshOptions.home();
        Path doc = document != null ? document : home.resolve(DemoCommand.DOCUMENT);
        String text = Files.readString(doc);
        List<String> questions = DemoCommand.sampleQuestions(home.resolve(DemoCommand.QUESTIONS)).stream().map(q -> q[0]).toList();
        Path modelFile = Path.of(Mesh.savedState(options.stateDir()).getProperty("model", home.resolve("models/pcw-demo.gguf").toString()));

        try (MeshClient client = MeshClient.connect(options.address("chunker"), options.address("generator"), Duration.ofMinutes(10), MeshClient.Security.fromEnvironment());
             Model model = Model.load(modelFile)) {
            // A first round warms both sides up (JIT, channels); the second is measured. Each round's
            // instruction makes its segments new to every service and to this process.
            Round round = null;
            for (String name : List.of("warm-up", "measured")) {
                round = round(client, model, text, questions.getFirst(), name + " " + System.currentTimeMillis() + ".");
            }
            DocumentManifest m = round.manifest();
            AnswerFigures cold = round.cold(), warm = round.warm();
            double ingestSeconds = round.ingestSeconds(), inProcessCold = round.inProcessCold(), inProcessWarm = round.inProcessWarm();

            out.printf("### The mesh against the runtime in process%n%n");
            out.printf("%s: %d windows, %d tokens; model %s; parallel strategy, greedy, %d answer tokens.%n%n", doc.getFileName(),
                    m.getWindowCount(), m.getWindowTokensList().stream().mapToInt(Integer::intValue).sum(), modelFile.getFileName(), maxTokens);
            out.println("| what | mesh | in process |");
            out.println("|---|---:|---:|");
            out.printf("| ingest until every window is encoded (encoder) | %.2f s | — |%n", ingestSeconds);
            out.printf("| time to first token, segments not yet at hand | %d ms (fetching %d segments) | %.0f ms (encoding them) |%n",
                    cold.getTimeToFirstTokenMs(), cold.getSegmentsFetched(), inProcessCold);
            out.printf("| time to first token, segments cached | %d ms | %.0f ms |%n", warm.getTimeToFirstTokenMs(), inProcessWarm);
            double mib = cold.getSegmentBytesFetched() / 1048576.0;
            out.printf("| KV transfer, encoder to generator (loopback gRPC, parts of 1 MiB with CRC-32C) | %.1f MiB in %d ms = %.0f MiB/s | — |%n%n",
                    mib, cold.getFetchMs(), cold.getFetchMs() == 0 ? 0 : mib * 1000 / cold.getFetchMs());

            concurrent(out, client, m, questions);
        }
        out.flush();
        return 0;
    }

    private record Round(DocumentManifest manifest, double ingestSeconds, AnswerFigures cold, AnswerFigures warm, double inProcessCold, double inProcessWarm) {}

    /** Ingests under {@code instruction} until encoded, asks twice through the mesh, then twice in process on the same windows. */
    private Round round(MeshClient client, Model model, String text, String question, String instruction) {
        long t0 = System.nanoTime();
        DocumentManifest m = client.ingest(IngestRequest.newBuilder().setText(text).setInstruction(instruction).setWaitUntilEncoded(true).build());
        double ingestSeconds = (System.nanoTime() - t0) / 1e9;
        AnswerFigures cold = client.ask(request(m, question), s -> { });
        AnswerFigures warm = client.ask(request(m, question), s -> { });

        List<int[]> windows = new ArrayList<>();
        for (Window w : client.split(text, m.getMaxWindowTokens()).getWindowsList()) {
            windows.add(w.getTokensList().stream().mapToInt(Integer::intValue).toArray());
        }
        Document d = new Document(m.getPrefixTokensList().stream().mapToInt(Integer::intValue).toArray(), windows);
        int[] q = model.tokenizer().encode("\n\nQuestion: %s\nAnswer:".formatted(question), false, false);
        LocalSegments segments = new LocalSegments(model);
        double inProcessCold = inProcessTtft(model, d, q, segments);
        return new Round(m, ingestSeconds, cold, warm, inProcessCold, inProcessTtft(model, d, q, segments));
    }

    private AskRequest request(DocumentManifest m, String question) {
        return AskRequest.newBuilder().addDocumentIds(m.getDocumentId()).setQuestion(question)
                .setStrategy(StrategySpec.newBuilder().setName("parallel")).setSampling(Sampling.newBuilder().setMaxTokens(maxTokens)).build();
    }

    /** Milliseconds to the first answer token in process: planning (encoding what {@code segments} lacks) plus prefill. */
    private double inProcessTtft(Model model, Document d, int[] q, LocalSegments segments) {
        long start = System.nanoTime();
        var strategy = StrategySettings.defaults().create("parallel", model, model.config().contextLength(), null);
        ContextPlan plan = strategy.plan(d, q, new PlanRequest(model, dev.pcwmesh.runtime.context.PositionEncoding.of(model), segments,
                model.config().contextLength(), maxTokens));
        long planned = System.nanoTime();
        GenerationResult r = new Generator(model, model.tokenizer()).generate(plan, q, SamplingParams.greedy(maxTokens), TokenListener.NONE);
        return (planned - start + r.prefillNanos()) / 1e6;
    }

    /** {@code askers} threads each asking {@code asks} questions at once; a BUSY refusal is retried after 20 ms and counted. */
    private void concurrent(PrintWriter out, MeshClient client, DocumentManifest m, List<String> questions) throws Exception {
        AtomicInteger busy = new AtomicInteger();
        List<Long> ttfts = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger tokens = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(askers);
        long start = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int a = 0; a < askers; a++) {
            int asker = a;
            done.add(pool.submit(() -> {
                for (int i = 0; i < asksPerAsker; i++) {
                    AskRequest r = request(m, questions.get((asker + i) % questions.size()));
                    while (true) {
                        try {
                            AnswerFigures f = client.ask(r, s -> { });
                            ttfts.add(f.getTimeToFirstTokenMs());
                            tokens.addAndGet(f.getTokensOut());
                            break;
                        } catch (StatusRuntimeException e) {
                            if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) throw e;
                            busy.incrementAndGet();
                            Thread.sleep(20);
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) f.get();
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        Collections.sort(ttfts);
        out.printf("### %d concurrent askers, %d questions each (segments cached)%n%n", askers, asksPerAsker);
        out.println("| answers | wall s | answers/s | tokens out/s | TTFT p50 ms | TTFT p95 ms | BUSY refusals retried |");
        out.println("|---:|---:|---:|---:|---:|---:|---:|");
        out.printf("| %d | %.1f | %.2f | %.1f | %d | %d | %d |%n%n", ttfts.size(), seconds, ttfts.size() / seconds, tokens.get() / seconds,
                ttfts.get(ttfts.size() / 2), ttfts.get(Math.min(ttfts.size() - 1, (int) Math.ceil(ttfts.size() * 0.95) - 1)), busy.get());
    }
}
