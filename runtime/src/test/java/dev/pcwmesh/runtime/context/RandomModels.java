package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.model.RandomModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Small random-weight models written by our own GGUF writer, one per architecture and tensor
 * type, made once per test run in a temporary folder. Rows of 256 so every K-quant type holds
 * real blocks.
 */
final class RandomModels {
    static final List<GgmlType> TYPES = java.util.Arrays.stream(GgmlType.values()).filter(GgmlType::supported).toList();

    private static List<Path> all;

    static synchronized List<Path> all() {
        if (all != null) return all;
        try {
            Path dir = Files.createTempDirectory("pcw-random-models");
            dir.toFile().deleteOnExit();
            List<Path> files = new ArrayList<>();
            for (String arch : List.of("llama", "qwen2", "qwen3")) {
                for (GgmlType type : TYPES) {
                    Path out = dir.resolve(arch + "-" + type + ".gguf");
                    RandomModel.write(RandomModel.Spec.defaults(arch).withDim(256).withHeads(4, 2).withFfn(512).withType(type)
                            .withTied(arch.equals("qwen2")), out, note -> { });
                    out.toFile().deleteOnExit();
                    files.add(out);
                }
            }
            all = List.copyOf(files);
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private RandomModels() {}
}
