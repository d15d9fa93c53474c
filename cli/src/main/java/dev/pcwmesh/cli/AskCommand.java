package dev.pcwmesh.cli;

import dev.pcwmesh.client.MeshClient;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code pcw ask DOC_ID "question"}: asks the running mesh's generator and streams the answer. */
@Command(name = "ask", mixinStandardHelpOptions = true,
        description = "Ask the running mesh about an ingested document; the answer streams, then a line of figures.")
public final class AskCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DOC_ID", description = "the document (an id printed by pcw ingest)")
    String documentId;

    @Parameters(index = "1", paramLabel = "QUESTION", description = "the question")
    String question;

    @Option(names = "--also", paramLabel = "DOC_ID", description = "more documents to answer from, placed after the first")
    List<String> more = List.of();

    @Option(names = {"-s", "--strategy"}, defaultValue = "parallel", paramLabel = "NAME",
            description = "parallel, select, sequential, lambda or tokens (default: ${DEFAULT-VALUE})")
    String strategy;

    @Option(names = {"-k", "--top-k"}, defaultValue = "0", paramLabel = "K", description = "select: windows kept; tokens: keys per head (default: the strategy's)")
    int topK;

    @Option(names = "--rope", defaultValue = "", paramLabel = "NAME", description = "RoPE rescaling: linear, ntk, dynamic-ntk, yarn, llama3, rerope, leaky-rerope (default: the model file's)")
    String rope;

    @Option(names = "--rope-scale", defaultValue = "0", paramLabel = "S", description = "the rescaling's factor")
    float ropeScale;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "0", paramLabel = "N", description = "most answer tokens (default: the generator's limit)")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "sampling temperature (default: 0, greedy)")
    float temperature;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "sampling seed (0: random)")
    long seed;

    @Mixin MeshOptions mesh;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        AskRequest request = AskRequest.newBuilder().addDocumentIds(documentId).addAllDocumentIds(more).setQuestion(question)
                .setStrategy(StrategySpec.newBuilder().setName(strategy).setTopK(topK).setRope(rope).setRopeScale(ropeScale))
                .setSampling(Sampling.newBuilder().setMaxTokens(maxTokens).setTemperature(temperature).setSeed(seed))
                .build();
        PrintWriter out = spec.commandLine().getOut();
        try (MeshClient client = MeshClient.connect(mesh.address("chunker"), mesh.address("generator"), Duration.ofMinutes(10), MeshClient.Security.fromEnvironment())) {
            AnswerFigures f = client.ask(request, text -> {
                out.print(text);
                out.flush();
            });
            out.println();
            out.println(figures(f));
        }
        out.flush();
        return 0;
    }

    /** One line of an answer's figures. */
    static String figures(AnswerFigures f) {
        return String.format("[%d/%d windows, %d tokens in, %d out, ttft %d ms, %.1f ms/token, segments: %d cached, %d fetched, %d encoded here, kv %.1f MiB, stop %s%s]",
                f.getWindowsUsed(), f.getWindowsTotal(), f.getTokensIn(), f.getTokensOut(), f.getTimeToFirstTokenMs(), f.getInterTokenMs(),
                f.getSegmentCacheHits(), f.getSegmentsFetched(), f.getSegmentsEncodedHere(), f.getKvBytes() / 1048576.0, f.getStopReason(),
                f.getNote().isEmpty() ? "" : "; " + f.getNote());
    }
}
