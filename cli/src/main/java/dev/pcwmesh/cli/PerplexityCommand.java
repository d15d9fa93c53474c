package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.generate.Perplexity;
import dev.pcwmesh.runtime.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = {"Perplexity of a text file, by llama.cpp's method: consecutive chunks of --ctx tokens,",
                "each starting with BOS, scoring only the second half of each chunk. The last line is ppl=<value>."})
public final class PerplexityCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "TXT", description = "UTF-8 text file")
    Path file;

    @Option(names = {"-c", "--ctx"}, defaultValue = "512", paramLabel = "N", description = "chunk length in tokens (default: ${DEFAULT-VALUE})")
    int ctx;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String text = Files.readString(file);
        try (Model model = modelOptions.load()) {
            var tokenizer = model.tokenizer();
            int[] tokens = tokenizer.encode(text, true, false);
            int bos = tokenizer.addBos() ? tokenizer.bos() : -1;
            if (ctx > model.config().contextLength()) {
                spec.commandLine().getErr().printf("pcw: note: --ctx %d is longer than the model's trained window of %d tokens%n",
                        ctx, model.config().contextLength());
            }
            out.printf("%d tokens, %d chunks of %d%n", tokens.length, tokens.length / ctx, ctx);
            out.flush();
            Perplexity.Result r = new Perplexity(model).compute(tokens, ctx, bos, (chunk, running) -> {
                out.printf("[%d]%.4f,", chunk + 1, running);
                out.flush();
            });
            out.println();
            out.printf("scored %d tokens in %.2f s (%.1f tokens/s evaluated)%n", r.scored(), r.nanos() / 1e9,
                    (double) r.chunks() * ctx * 1e9 / r.nanos());
            out.printf("ppl=%.4f%n", r.perplexity());
            out.flush();
        }
        return 0;
    }
}
