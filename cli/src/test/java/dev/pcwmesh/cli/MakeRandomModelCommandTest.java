package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class MakeRandomModelCommandTest {

    @TempDir
    Path dir;

    @Test
    void makeThenInfo() {
        Path out = dir.resolve("q3.gguf");
        CliRun r = CliRun.run("make-random-model", "--arch", "qwen3", "--layers", "2", "--dim", "64", "--heads", "4",
                "--kv-heads", "2", "--head-dim", "32", "--ffn", "96", "--vocab", "300", "--type", "f32", "--tied",
                "--seed", "5", "--context-length", "4096", "--rope-base", "500000", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("wrote " + out), r.out());
        assertTrue(Files.exists(out));

        CliRun info = CliRun.run("info", "--model", out.toString());
        assertEquals(0, info.exitCode(), info.err());
        String s = info.out();
        assertTrue(s.matches("(?s).*qwen3\\.attention\\.key_length\\s+UINT32\\s+32\\n.*"), s);
        assertTrue(s.matches("(?s).*qwen3\\.context_length\\s+UINT32\\s+4096\\n.*"), s);
        assertTrue(s.matches("(?s).*qwen3\\.rope\\.freq_base\\s+FLOAT32\\s+500000\\.0\\n.*"), s);
        assertTrue(s.matches("(?s).*  blk\\.1\\.attn_q\\.weight\\s+F32\\s+\\[64, 128]\\s+32,768\\n.*"), s);
        assertTrue(s.matches("(?s).*  blk\\.0\\.attn_k_norm\\.weight\\s+F32\\s+\\[32]\\s+128\\n.*"), s);
        assertFalse(s.contains("\n  output.weight "), "tied: no output.weight");
        assertTrue(s.contains("\n  output_norm.weight "), s);
        assertTrue(s.contains("tokenizer.ggml.tokens"), s);
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(300, f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(2, f.getInt("qwen3.block_count"));
        }
    }

    @Test
    void vocabFromAnotherModelIsNoted() {
        Path src = dev.pcwmesh.runtime.TestModels.shared("stories260K.gguf");
        Path out = dir.resolve("l.gguf");
        CliRun r = CliRun.run("make-random-model", "--layers", "1", "--vocab", "300", "--vocab-from", src.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("note: vocabulary of 512 tokens from stories260K.gguf (overrides --vocab 300)"), r.out());
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(512, f.getStringArray("tokenizer.ggml.tokens").length);
            assertTrue(f.findTensor("output.weight").isPresent(), "not tied by default");
        }
    }

    @Test
    void badSpecsAreUsageErrors() {
        Path out = dir.resolve("x.gguf");
        CliRun r = CliRun.run("make-random-model", "--arch", "gpt2", "--out", out.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("unknown architecture gpt2"), r.err());
        CliRun k = CliRun.run("make-random-model", "--heads", "4", "--kv-heads", "3", "--out", out.toString());
        assertEquals(2, k.exitCode());
        assertTrue(k.err().contains("multiple of kv-heads"), k.err());
        CliRun t = CliRun.run("make-random-model", "--type", "Q9_9", "--out", out.toString());
        assertEquals(2, t.exitCode());
        assertTrue(t.err().contains("--type"), t.err());
        CliRun v = CliRun.run("make-random-model", "--vocab-from", dir.resolve("none.gguf").toString(), "--out", out.toString());
        assertEquals(2, v.exitCode());
        assertTrue(v.err().contains("no such file"), v.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void help() {
        CliRun h = CliRun.run("make-random-model", "--help");
        assertEquals(0, h.exitCode());
        for (String o : new String[]{"--arch", "--layers", "--dim", "--heads", "--kv-heads", "--head-dim", "--ffn", "--vocab",
                "--type", "--[no-]tied", "--vocab-from", "--seed", "--context-length", "--rope-base", "--out"}) {
            assertTrue(h.out().contains(o), o + " in " + h.out());
        }
    }
}
