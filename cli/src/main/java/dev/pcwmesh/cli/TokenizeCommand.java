package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text, space-separated; BOS/EOS are added as the model's flags say.")
public final class TokenizeCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "text to tokenize")
    String text;

    @Option(names = "--no-special", description = "add no BOS/EOS, whatever the model's flags say")
    boolean noSpecial;

    @Option(names = "--no-parse-special", description = "treat special-token text such as <|im_start|> as plain text")
    boolean noParseSpecial;

    @Option(names = "--pieces", description = "also print each token's vocabulary string")
    boolean pieces;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        // Only the vocabulary is read, so vocabulary-only GGUF files work too.
        try (GgufFile file = GgufFile.open(modelOptions.model)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            int[] ids = tokenizer.encode(text, !noSpecial, !noParseSpecial);
            out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            if (pieces) {
                for (int id : ids) out.println(id + "\t" + tokenizer.piece(id));
            }
        }
        out.flush();
        return 0;
    }
}
