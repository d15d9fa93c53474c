package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.generate.GenerationResult;
import dev.pcwmesh.runtime.generate.Generator;
import dev.pcwmesh.runtime.generate.SamplingParams;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.ChatMessage;
import dev.pcwmesh.runtime.tokenizer.ChatTemplate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt and print the continuation as it is generated.")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "the prompt")
    String prompt;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "128", paramLabel = "N", description = "most new tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", paramLabel = "X", description = "0 for greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "0 keeps all (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "1 keeps all (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", paramLabel = "P", description = "0 keeps all (default: ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "X", description = "1 is off (default: ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", paramLabel = "N", description = "tokens the penalty looks back (default: ${DEFAULT-VALUE})")
    int repeatLastN;

    @Option(names = {"-s", "--seed"}, paramLabel = "S", description = "random seed (default: random)")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop before this text (repeatable)")
    List<String> stops = List.of();

    @Option(names = "--chat", description = "wrap the prompt as a user message in the model's chat template")
    boolean chat;

    @Option(names = "--ids", description = "after the text, print a line with the generated token ids")
    boolean ids;

    @Option(names = "--stats", description = "print prompt and generation speed to stderr")
    boolean stats;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model model = modelOptions.load()) {
            String text = prompt;
            boolean addSpecial = true;
            if (chat) {
                text = ChatTemplate.fromGguf(model.file(), model.tokenizer()).render(List.of(new ChatMessage("user", prompt)), true);
                addSpecial = false; // the template writes BOS itself where the model wants one
            }
            int[] promptIds = model.tokenizer().encode(text, addSpecial, true);
            int window = model.config().contextLength();
            if (promptIds.length + maxTokens > window) {
                spec.commandLine().getErr().printf("pcw: note: %d prompt + %d new tokens go past the model's trained window of %d tokens%n",
                        promptIds.length, maxTokens, window);
            }
            SamplingParams params = new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    seed != null ? seed : System.nanoTime(), maxTokens, stops, true);
            GenerationResult r = new Generator(model, model.tokenizer()).generate(promptIds, params, (token, piece) -> {
                out.print(piece);
                out.flush();
            });
            out.println();
            if (ids) out.println(Arrays.stream(r.tokens()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            out.flush();
            if (stats) {
                spec.commandLine().getErr().printf("prompt: %d tokens, %.1f tokens/s (time to first token %.1f ms); generated: %d tokens, %.1f tokens/s; stop: %s%n",
                        r.promptTokens(), r.prefillTokensPerSecond(), r.prefillNanos() / 1e6, r.tokens().length, r.decodeTokensPerSecond(), r.stopReason());
                spec.commandLine().getErr().flush();
            }
        }
        return 0;
    }
}
