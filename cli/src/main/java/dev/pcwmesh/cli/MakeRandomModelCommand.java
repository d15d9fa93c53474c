package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.model.RandomModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code pcw make-random-model}: a random-weight GGUF model of a real architecture's shape. */
@Command(name = "make-random-model", mixinStandardHelpOptions = true,
        description = {"Write a GGUF model with random weights, named as llama.cpp names tensors and keys.",
                "Matrices whose rows do not fit the type's blocks fall back as llama.cpp does (Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, else F16)."})
public final class MakeRandomModelCommand implements Callable<Integer> {

    private static final RandomModel.Spec D = RandomModel.Spec.defaults("llama");

    @Spec
    CommandSpec spec;

    @Option(names = "--arch", defaultValue = "llama", description = "llama, qwen2 or qwen3 (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--layers", description = "Transformer blocks (default: 2).")
    int layers = D.layers();

    @Option(names = "--dim", description = "Embedding width (default: 64).")
    int dim = D.dim();

    @Option(names = "--heads", description = "Attention heads (default: 4).")
    int heads = D.heads();

    @Option(names = "--kv-heads", description = "Key/value heads (default: 2).")
    int kvHeads = D.kvHeads();

    @Option(names = "--head-dim", description = "Per-head width (default: dim / heads).")
    int headDim = 0;

    @Option(names = "--ffn", description = "Feed-forward width (default: 128).")
    int ffn = D.ffn();

    @Option(names = "--vocab", description = "Vocabulary size, at least 260 (default: 512; ignored with --vocab-from).")
    int vocab = D.vocab();

    @Option(names = "--type", description = "Tensor type of the matrices: ${COMPLETION-CANDIDATES} (default: F32).")
    GgmlType type = GgmlType.F32;

    @Option(names = "--tied", negatable = true, description = "Reuse token_embd.weight as the output projection (omit output.weight). Default: not tied.")
    boolean tied = false;

    @Option(names = "--vocab-from", paramLabel = "GGUF", description = "Copy every tokenizer.* key from this GGUF file.")
    Path vocabFrom;

    @Option(names = "--seed", description = "Random seed (default: 42).")
    long seed = D.seed();

    @Option(names = "--context-length", description = "Trained context length written to the metadata (default: 2048).")
    int contextLength = D.contextLength();

    @Option(names = "--rope-base", description = "Rotary base frequency (default: 10000 for llama, 1000000 for qwen).")
    double ropeBase = 0;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "The GGUF file to write.")
    Path out;

    @Override
    public Integer call() {
        RandomModel.Spec s;
        try {
            s = new RandomModel.Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, vocab, type, tied,
                    contextLength, ropeBase, seed, vocabFrom);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (vocabFrom != null && !Files.isRegularFile(vocabFrom)) {
            throw new ParameterException(spec.commandLine(), "--vocab-from: no such file " + vocabFrom);
        }
        PrintWriter pw = spec.commandLine().getOut();
        RandomModel.Result r = RandomModel.write(s, out, line -> { pw.println("note: " + line); pw.flush(); });
        long size;
        try {
            size = Files.size(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        pw.printf(Locale.ROOT, "wrote %s: %s, %d layers, dim %d, %d/%d heads of %d, ffn %d, vocabulary %d, %s%s, %d tensors, %,d parameters, %,d bytes%n",
                out, arch, layers, dim, heads, kvHeads, s.effectiveHeadDim(), ffn, r.vocab(), type, tied ? ", tied" : "",
                r.tensors(), r.parameters(), size);
        pw.flush();
        return 0;
    }
}
