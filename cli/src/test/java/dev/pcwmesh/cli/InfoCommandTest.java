package dev.pcwmesh.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class InfoCommandTest {

    @TempDir
    Path dir;

    @Test
    void infoOnStories260K() {
        Path model = dev.pcwmesh.runtime.TestModels.shared("stories260K.gguf");
        CliRun r = CliRun.run("info", "--model", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        String out = r.out();
        assertTrue(out.contains("version:    GGUF 3"), out);
        assertTrue(out.contains("alignment:  32"), out);
        assertTrue(out.matches("(?s).*general\\.architecture\\s+STRING\\s+llama\\n.*"), out);
        assertTrue(out.matches("(?s).*llama\\.block_count\\s+UINT32\\s+5\\n.*"), out);
        // Arrays abbreviated the way GgufValue prints them.
        assertTrue(out.matches("(?s).*tokenizer\\.ggml\\.tokens\\s+ARRAY\\s+STRING\\[512] \\[<unk>, <s>, </s>, .*, \\.\\.\\.]\\n.*"), out);
        assertTrue(out.matches("(?s).*  token_embd\\.weight\\s+F32\\s+\\[64, 512]\\s+131,072\\n.*"), out);
        assertTrue(out.contains("blk.4.ffn_down.weight"), out);
        // stories260K: 5 layers of dim 64, ffn 172, vocab 512, 4 KV heads of 8 wide (kv 32), untied output.
        long perLayer = 64 + 64 * 64 + 2L * 64 * 32 + 64 * 64 + 64 + 3L * 64 * 172;
        long params = 64L * 512 + 5 * perLayer + 64 + 64L * 512;
        assertTrue(out.contains(String.format(java.util.Locale.ROOT, "parameters  %,d", params)), out);
        assertTrue(out.matches("(?s).*\\n  F32\\s+48 tensors\\s+" + String.format(java.util.Locale.ROOT, "%,d", params).replace(",", ",") + " parameters\\s+"
                + String.format(java.util.Locale.ROOT, "%,d", params * 4) + " bytes\\n.*"), out);
        assertFalse(out.lines().anyMatch(l -> l.length() > 400), "values are cut to one short line");
    }

    @Test
    void missingFileIsOneLineAndNonZero() {
        CliRun r = CliRun.run("info", "--model", dir.resolve("absent.gguf").toString());
        assertNotEquals(0, r.exitCode());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("pcw: ") && r.err().contains("not found") && r.err().contains("absent.gguf"), r.err());
    }

    @Test
    void corruptFileIsOneLineAndVerboseGivesTheTrace() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.writeString(bad, "GGUF but not really");
        CliRun r = CliRun.run("info", "--model", bad.toString());
        assertEquals(1, r.exitCode());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("bad.gguf"), r.err());

        CliRun v = CliRun.run("info", "--verbose", "--model", bad.toString());
        assertEquals(1, v.exitCode());
        assertTrue(v.err().contains("GgufException") && v.err().contains("\tat "), v.err());
    }

    @Test
    void helpAndMissingOption() {
        CliRun h = CliRun.run("info", "--help");
        assertEquals(0, h.exitCode());
        assertTrue(h.out().contains("--model"), h.out());
        CliRun m = CliRun.run("info");
        assertEquals(2, m.exitCode());
        assertTrue(m.err().contains("Missing required option: '--model=FILE'"), m.err());
    }
}
