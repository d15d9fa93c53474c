package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.context.Chunker;
import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Document;
import dev.pcwmesh.runtime.context.LocalSegments;
import dev.pcwmesh.runtime.context.PlanCost;
import dev.pcwmesh.runtime.context.PlanRequest;
import dev.pcwmesh.runtime.context.Strategy;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "qa", mixinStandardHelpOptions = true,
        description = "Answer a question about a document, in process, under a context strategy; print the answer and a line of figures.")
public final class QaCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Mixin StrategyOptions strategyOptions;

    @Option(names = "--doc", required = true, paramLabel = "FILE", description = "the document (UTF-8 text)")
    Path doc;

    @Option(names = {"-q", "--question"}, required = true, paramLabel = "TEXT", description = "the question")
    String question;

    @Option(names = "--instruction", defaultValue = "", paramLabel = "TEXT", description = "text after BOS, before the windows (shared prefix)")
    String instruction;

    @Option(names = "--question-format", defaultValue = "\n\nQuestion: %s\nAnswer:", paramLabel = "FORMAT",
            description = "how the question follows the document, %%s for the question (default: a Question:/Answer: pair)")
    String questionFormat;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "64", paramLabel = "N", description = "most answer tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--max-doc-bytes", defaultValue = "67108864", paramLabel = "N", description = "largest document accepted (default: ${DEFAULT-VALUE})")
    long maxDocBytes;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String text = readText(doc, maxDocBytes);
        try (Model model = modelOptions.load(); Model embedder = strategyOptions.loadEmbedder()) {
            Tokenizer tok = model.tokenizer();
            long start = System.nanoTime();
            List<int[]> windows = new Chunker(tok, strategyOptions.window(model)).split(text);
            int[] prefix = prefix(tok, instruction);
            int[] questionIds = tok.encode(questionFormat.formatted(question), false, false);
            Strategy strategy = strategyOptions.strategy(model, embedder);
            PlanRequest request = new PlanRequest(model, strategyOptions.positions(model), new LocalSegments(model),
                    strategyOptions.trainedWindow(model), maxTokens);
            ContextPlan plan = strategy.plan(new Document(prefix, windows), questionIds, request);
            long planned = System.nanoTime();

            GenerationResult r = new Generator(model, tok).generate(plan, questionIds, SamplingParams.greedy(maxTokens), (id, piece) -> {
                out.print(piece);
                out.flush();
            });
            PlanCost cost = plan.cost();
            out.println();
            if (!plan.note().isEmpty()) out.println("note: " + plan.note());
            out.printf("strategy=%s rope=%s windows=%d/%d encoded=%d tokens in %.0f ms, ttft=%.0f ms, %.1f tokens/s, kv=%.1f MiB, attended=%d, scores=%d%n",
                    strategy.name(), request.positions().describe(), cost.windows(), windows.size(), cost.tokensEncoded(),
                    (planned - start) / 1e6, (planned - start + r.prefillNanos()) / 1e6, r.decodeTokensPerSecond(),
                    cost.kvBytes() / 1048576.0, cost.tokensAttended(), cost.scoresComputed());
        }
        out.flush();
        return 0;
    }

    /** BOS (when the model wants one) and the instruction: the prefix every window attends to. */
    static int[] prefix(Tokenizer tok, String instruction) {
        int[] text = instruction.isEmpty() ? new int[0] : tok.encode(instruction, false, false);
        if (!tok.addBos() || tok.bos() < 0) return text;
        int[] out = new int[text.length + 1];
        out[0] = tok.bos();
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    /** The file as strict UTF-8, refusing oversized or undecodable input with a clear message. */
    static String readText(Path file, long maxBytes) throws IOException {
        long size = Files.size(file);
        if (size > maxBytes) throw new IllegalArgumentException(file + " has " + size + " bytes, more than --max-doc-bytes " + maxBytes);
        byte[] bytes = Files.readAllBytes(file);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not valid UTF-8 text (" + e.getMessage() + ")");
        }
    }
}
