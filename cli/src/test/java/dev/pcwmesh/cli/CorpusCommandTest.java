package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pcw corpus on a small directory and JSONL file with stories260K's tokenizer: every output, the progress bar, clear refusals. */
class CorpusCommandTest {
    @TempDir Path dir;

    static final String[] WORDS = ("once upon time little girl boy dog cat park tree ball red big small happy sad mom dad friend "
            + "sun rain garden house river bird fish cake toy car train jump run play sing laugh walk found lost saw wanted "
            + "the a and to of with her his was very one day said went").split(" ");

    /** Sentences of random words: prose with no repeated n-grams, unlike a template repeated. */
    static String prose(int sentences, long seed) {
        java.util.Random r = new java.util.Random(seed);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            int n = 8 + r.nextInt(8);
            for (int k = 0; k < n; k++) {
                String w = WORDS[r.nextInt(WORDS.length)];
                b.append(k == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w).append(k < n - 1 ? " " : ". ");
            }
        }
        return b.toString().strip();
    }

    @Test
    void writesSequencesManifestAndReport() throws IOException {
        Path in = dir.resolve("in");
        Files.createDirectories(in.resolve("stories"));
        for (int i = 0; i < 4; i++) Files.writeString(in.resolve("stories/story-" + i + ".txt"), prose(10 + 5 * i, i));
        Files.writeString(in.resolve("stories/menu.html"), "<p>Home | About | Contact</p><p>Accept all cookies</p><p>Sign in</p><p>Privacy Policy</p>");
        Path jsonl = dir.resolve("more.jsonl");
        Files.writeString(jsonl, "{\"id\": \"j1\", \"text\": \"" + prose(12, 99) + "\", \"domain\": \"dogs\"}\n");
        Path out = dir.resolve("out");
        CliRun r = CliRun.run("corpus", "--model", TestModels.shared(Stories260K.FILE).toString(), in.toString(), jsonl.toString(),
                "--out", out.toString(), "--sequence-length", "256", "--long-min-tokens", "128", "--mask");
        assertEquals(0, r.exitCode(), r.err());
        for (String f : List.of("sequences.jsonl", "tokens.bin", "mask.bin", "units.jsonl", "rejected.jsonl", "manifest.json", "report.md",
                "lengths.png", "domains.png", "rejections.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertTrue(r.out().contains("6 documents read: 5 kept, 1 rejected") && r.out().contains("too-short"), r.out());
        assertTrue(r.out().contains("stories") && r.out().contains("dogs") && r.out().contains("sequences of 256 tokens"), r.out());
        assertTrue(r.err().contains("100%"), "the progress bar reaches the end: " + r.err());
        assertTrue(Files.readString(out.resolve("report.md")).contains("pcw corpus --model"));
    }

    @Test
    void refusesWhatItCannotDo() throws IOException {
        String model = TestModels.shared(Stories260K.FILE).toString();
        assertEquals(2, CliRun.run("corpus", "--model", model).exitCode(), "no input and no --kafka");
        Path in = dir.resolve("in2");
        Files.createDirectories(in);
        Files.writeString(in.resolve("a.txt"), prose(10, 7));
        CliRun r = CliRun.run("corpus", "--model", model, in.toString(), "--out", dir.resolve("o").toString(), "--mix", "news=1", "--no-progress");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("domain 'news' of the mix has no documents"), r.err());
    }
}
