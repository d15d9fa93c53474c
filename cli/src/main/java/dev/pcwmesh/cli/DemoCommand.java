package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.context.ContextPlan;
import dev.pcwmesh.runtime.context.Encoder;
import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.kernel.Parallel;
import dev.pcwmesh.runtime.kv.KvSegment;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The runtime's two primitives end to end, on one machine: a document cut into windows, each
 * window encoded once after a shared prefix (all windows at the same positions), then answers
 * generated under a plan that places every window in parallel. The services of the mesh
 * (chunker, encoder, generator over gRPC and Kafka) build on exactly these calls.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Encode a document as parallel context windows and generate under the plan.")
public final class DemoCommand implements Callable<Integer> {

    /**
     * Where the demo looks for a model when --model is not given, in order. stories260K comes
     * first while it is at hand because it writes coherent text; the project's own demo model
     * (models/README.md) does not yet answer questions, but it is always there.
     */
    static final List<Path> DEFAULT_MODELS = List.of(Path.of("../shared/models/stories260K.gguf"), Path.of("models/pcw-demo.gguf"));

    static final String[] DOCUMENT = {
            "Once upon a time, there was a little dog named Max. Max liked to run in the big green park. One day he found a red ball under a tree.",
            "Lily had a blue kite. She went to the hill with her mom to fly it. The wind was strong and the kite went up high in the sky.",
            "Tom and Sue baked a cake for their grandma. They put sugar and eggs in a bowl. The cake was sweet and grandma was very happy.",
    };

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model (default: the first of ../shared/models/stories260K.gguf, models/pcw-demo.gguf that exists)")
    Path model;

    @picocli.CommandLine.Mixin ThreadOptions threads;

    @Option(names = {"-p", "--prompt"}, defaultValue = "One day,", paramLabel = "TEXT", description = "what follows the windows (default: ${DEFAULT-VALUE})")
    String prompt;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "40", paramLabel = "N", description = "most new tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        // Default models are named relative to the repository (the ./pcw launcher says where it is).
        Path home = Path.of(System.getProperty("pcw.home", "."));
        List<Path> candidates = DEFAULT_MODELS.stream().map(home::resolve).map(Path::normalize).toList();
        Path file = model != null ? model : candidates.stream().filter(Files::exists).findFirst().orElseThrow(() ->
                new IllegalStateException("no demo model found (looked for " + candidates + "); pass --model FILE with any GGUF model"));
        threads.apply();
        try (Model m = Model.load(file)) {
            Tokenizer tok = m.tokenizer();
            out.printf("model %s (%s, %d layers, trained window %d tokens), %d threads%n", m.name(), file, m.config().layers(),
                    m.config().contextLength(), Parallel.threads());

            Encoder encoder = new Encoder(m);
            int[] prefixTokens = tok.addBos() && tok.bos() >= 0 ? new int[]{tok.bos()} : new int[]{tok.encode(" ", false, false)[0]};
            KvSegment prefix = encoder.encode(prefixTokens, 0);
            List<ContextPlan.Placement> placements = new ArrayList<>();
            placements.add(new ContextPlan.Placement(prefix, 0));
            int longest = 0;
            long start = System.nanoTime();
            for (int i = 0; i < DOCUMENT.length; i++) {
                int[] ids = tok.encode(DOCUMENT[i], false, false);
                KvSegment window = encoder.encode(ids, prefix.endPosition(), prefix);
                placements.add(new ContextPlan.Placement(window, prefix.endPosition()));
                longest = Math.max(longest, ids.length);
                out.printf("window %d: %3d tokens at positions %d..%d, segment %s, %d KiB%n", i, ids.length, prefix.endPosition(),
                        prefix.endPosition() + ids.length - 1, window.id().substring(0, 12), window.byteSize() / 1024);
            }
            out.printf("encoded %d windows in %.0f ms; they share positions, so the plan spans %d positions for %d tokens%n",
                    DOCUMENT.length, (System.nanoTime() - start) / 1e6, prefix.endPosition() + longest,
                    placements.stream().mapToInt(p -> p.segment().length()).sum());

            ContextPlan plan = ContextPlan.of(m, placements, prefix.endPosition() + longest);
            int[] question = tok.encode(prompt, false, true);
            out.printf("%nprompt after the windows: \"%s\"%n> %s", prompt, prompt);
            out.flush();
            GenerationResult r = new Generator(m, tok).generate(plan, question, SamplingParams.greedy(maxTokens), (token, text) -> {
                out.print(text);
                out.flush();
            });
            out.printf("%n%nattended to %d context tokens; prefill %.1f ms, decode %.1f tokens/s, stop: %s%n",
                    r.contextTokens(), r.prefillNanos() / 1e6, r.decodeTokensPerSecond(), r.stopReason());
        }
        out.flush();
        return 0;
    }
}
