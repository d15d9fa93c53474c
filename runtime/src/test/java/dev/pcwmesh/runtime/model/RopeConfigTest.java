package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufException;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufTensor;
import dev.pcwmesh.runtime.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RoPE settings come from the file; scalings the runtime does not implement are refused, not ignored. */
class RopeConfigTest {
    @TempDir Path dir;

    /** stories260K rewritten with extra metadata. */
    Path variant(String name, Consumer<GgufWriter> extra) {
        return variant(dir, name, extra);
    }

    /** stories260K rewritten into {@code dir} with extra metadata. */
    static Path variant(Path dir, String name, Consumer<GgufWriter> extra) {
        Path out = dir.resolve(name + ".gguf");
        try (GgufFile src = GgufFile.open(TestModels.shared(Stories260K.FILE))) {
            GgufWriter w = new GgufWriter().putAll(src.metadata());
            for (GgufTensor t : src.tensors().values()) w.addRawTensor(t.name(), t.type(), t.shape(), t.data());
            extra.accept(w);
            w.write(out);
        }
        return out;
    }

    @Test
    void linearScalingIsRead() {
        try (Model m = Model.load(variant("linear", w -> w.putString("llama.rope.scaling.type", "linear").putFloat32("llama.rope.scaling.factor", 4f)))) {
            assertEquals(new RopeScaling.Linear(4f), m.config().rope().scaling());
            assertEquals(10000f, m.config().rope().base());
        }
    }

    @Test
    void linearScalingIsPartOfTheEncodeSettings() {
        try (Model plain = Model.load(TestModels.shared(Stories260K.FILE));
             Model scaled = Model.load(variant("linear2", w -> w.putString("llama.rope.scaling.type", "linear").putFloat32("llama.rope.scaling.factor", 2f)))) {
            assertTrue(!plain.config().rope().describe().equals(scaled.config().rope().describe()), "segment ids must differ");
        }
    }

    @Test
    void anUnsupportedScalingIsAClearError() {
        Path longrope = variant("longrope", w -> w.putString("llama.rope.scaling.type", "longrope").putFloat32("llama.rope.scaling.factor", 4f));
        GgufException e = assertThrows(GgufException.class, () -> Model.load(longrope));
        assertTrue(e.getMessage().contains("'longrope'") && e.getMessage().contains("not supported"), e.getMessage());
    }

    @Test
    void frequencyFactorsAreReadFromTheRopeFreqsTensor() {
        float[] factors = new float[4];
        java.util.Arrays.fill(factors, 2f);
        try (Model m = Model.load(variant("freqs", w -> w.addTensor("rope_freqs.weight", dev.pcwmesh.runtime.gguf.GgmlType.F32, new long[]{4}, factors)))) {
            assertNotNull(m.config().rope().freqFactors());
            assertEquals(2f, m.config().rope().freqFactors()[3]);
        }
    }
}
