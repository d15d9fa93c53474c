package dev.pcwmesh.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pcw corpus}'s pipeline end to end with stories260K's tokenizer (read in place from
 * ../shared/models) on a generated corpus: a directory of text, Markdown, HTML and PDF files in three
 * domains with a forum thread to aggregate, plus a JSONL file; messy documents and a near duplicate
 * planted among them.
 */
class CorpusPipelineTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static GgufFile gguf;
    static Tokenizer tokenizer;
    @TempDir static Path dir;
    static Path input, jsonl;
    /** id → text for the plain-text and JSONL documents (whose text is taken as it is) */
    static final Map<String, String> plain = new LinkedHashMap<>();
    /** id → expected reason for planted messy documents */
    static final Map<String, Rejection.Reason> planted = new LinkedHashMap<>();
    static final List<String> cleanIds = new ArrayList<>();

    @BeforeAll
    static void corpus() throws IOException {
        gguf = GgufFile.open(TestModels.shared(Stories260K.FILE));
        tokenizer = Tokenizer.fromGguf(gguf);
        SyntheticCorpus c = new SyntheticCorpus(21);
        input = dir.resolve("input");
        for (int i = 0; i < 8; i++) write("books/novel-" + i + ".txt", c.prose(c.topic(40), 500 + 60 * i), true);
        write("books/essay.md", c.clean("markdown").text(), true);
        List<String> thread = c.topic(30);
        for (int i = 1; i <= 5; i++) write("web/thread-7/post-" + i + ".txt", c.paragraph(thread, 3), true);
        for (int i = 0; i < 6; i++) write("web/page-" + i + ".html", "<html><body><nav>Home</nav><article><h1>" + c.pick(thread)
                + "</h1><p>" + c.paragraph(c.topic(30), 6) + "</p><p>" + c.paragraph(c.topic(30), 5) + "</p></article></body></html>", false);
        int m = 0;
        for (String style : SyntheticCorpus.MESSY_STYLES) {
            for (int k = 0; k < 2; k++) {
                SyntheticCorpus.Labelled l = c.messy(style);
                String id = "web/messy-" + (m++) + ".txt";
                write(id, l.text(), false);
                planted.put(id, l.expected());
            }
        }
        pdf(input.resolve("reports/annual.pdf"), c.paragraph(c.topic(30), 8));
        cleanIds.add("reports/annual.pdf");
        Files.write(input.resolve("web/picture.png"), new byte[]{1, 2, 3}); // passed over
        Files.write(input.resolve("web/broken.txt"), new byte[]{'a', (byte) 0xC3}); // invalid UTF-8
        planted.put("web/broken.txt", Rejection.Reason.UNREADABLE);

        jsonl = dir.resolve("news.jsonl");
        StringBuilder lines = new StringBuilder();
        String story = c.prose(c.topic(40), 700);
        for (int i = 0; i < 6; i++) {
            String text = i == 3 ? story.replaceFirst(" the ", " a ") : (i == 1 ? story : c.prose(c.topic(40), 150 + 150 * i));
            String id = "news-" + i;
            lines.append(JSON.writeValueAsString(Map.of("id", id, "text", text, "domain", "news", "date", "2024-01-0" + (i + 1)))).append('\n');
            if (i == 3) planted.put(id, Rejection.Reason.NEAR_DUPLICATE);
            else { plain.put(id, text); cleanIds.add(id); }
        }
        lines.append("{not json\n");
        planted.put("news.jsonl:7", Rejection.Reason.UNREADABLE);
        Files.writeString(jsonl, lines);
    }

    static void write(String rel, String text, boolean isPlain) throws IOException {
        Path p = input.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        if (isPlain && rel.endsWith(".txt")) plain.put(rel, text);
        if (!rel.contains("messy")) cleanIds.add(rel);
    }

    static void pdf(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        try (PDDocument doc = new PDDocument()) {
            PDPage page = new PDPage();
            doc.addPage(page);
            try (PDPageContentStream cs = new PDPageContentStream(doc, page)) {
                cs.beginText();
                cs.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 10);
                cs.newLineAtOffset(40, 740);
                String[] words = text.split(" ");
                StringBuilder line = new StringBuilder();
                for (String w : words) {
                    if (line.length() + w.length() > 90) { cs.showText(line.toString()); cs.newLineAtOffset(0, -13); line.setLength(0); }
                    line.append(w).append(' ');
                }
                cs.showText(line.toString());
                cs.endText();
            }
            doc.save(file.toFile());
        }
    }

    @AfterAll
    static void close() {
        if (gguf != null) gguf.close();
    }

    static CorpusSettings settings() {
        return CorpusSettings.defaults(512).withLengths(256, 1.0).withMask(true);
    }

    static Manifest run(CorpusSettings s, Path out) throws IOException {
        DocumentSource src = DocumentSource.concat(List.of(new DirectorySource(input), new JsonlSource(jsonl, s.fields())));
        return new CorpusPipeline(s, tokenizer, Stories260K.FILE, null).run(src, out, Progress.NONE, "test");
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) if (!l.isBlank()) out.add(JSON.readTree(l));
        return out;
    }

    @Test
    void everyKeptDocumentIsPackedWholeAndEveryRejectionHasItsReason() throws IOException {
        Path out = dir.resolve("out-all");
        Manifest m = run(settings(), out);

        // Rejections: every planted one with its reason; no clean document.
        Map<String, String> rejected = new HashMap<>();
        for (JsonNode r : lines(out.resolve(CorpusPipeline.REJECTED))) {
            assertFalse(r.get("detail").asText().isBlank());
            rejected.put(r.get("id").asText(), r.get("reason").asText());
        }
        for (var e : planted.entrySet()) assertEquals(e.getValue().label(), rejected.get(e.getKey()), e.getKey());
        assertEquals(planted.size(), rejected.size(), "nothing clean is rejected: " + rejected);
        assertEquals(rejected.size(), m.documents().rejected() + m.documents().unreadable());

        // Units: every clean document in exactly one output unit; the forum thread as one aggregate in post order.
        Map<String, JsonNode> units = new LinkedHashMap<>();
        List<String> docs = new ArrayList<>();
        for (JsonNode u : lines(out.resolve(CorpusPipeline.UNITS))) {
            units.put(u.get("id").asText(), u);
            assertEquals(u.get("tokens").asInt(), u.get("taken").asInt(), "with no budget nothing is cut");
            u.get("documents").forEach(d -> docs.add(d.asText()));
        }
        assertEquals(Set.copyOf(cleanIds), Set.copyOf(docs));
        assertEquals(cleanIds.size(), docs.size(), "each document once");
        // The thread's posts are joined (one aggregate per sequence's worth of tokens), in post order.
        List<String> thread = docs.stream().filter(d -> d.startsWith("web/thread-7/")).toList();
        assertEquals(List.of("web/thread-7/post-1.txt", "web/thread-7/post-2.txt", "web/thread-7/post-3.txt", "web/thread-7/post-4.txt", "web/thread-7/post-5.txt"), thread);
        assertTrue(units.values().stream().anyMatch(u -> u.get("kind").asText().equals("aggregate") && u.get("documents").size() >= 2));

        // Sequences: fixed length; each unit's pieces reassemble to BOS + its tokens + EOS, no token cut.
        Map<String, List<Integer>> pieces = new HashMap<>();
        List<JsonNode> seqs = lines(out.resolve(PackedOutput.JSONL));
        assertEquals(m.sequences(), seqs.size());
        List<Integer> all = new ArrayList<>();
        for (JsonNode s : seqs) {
            assertEquals(512, s.get("input_ids").size());
            s.get("input_ids").forEach(t -> all.add(t.asInt()));
            for (JsonNode p : s.get("pieces")) {
                int start = p.get("start").asInt();
                for (int k = start; k < start + p.get("length").asInt(); k++)
                    pieces.computeIfAbsent(p.get("unit").asText(), x -> new ArrayList<>()).add(s.get("input_ids").get(k).asInt());
            }
        }
        assertEquals(units.keySet(), pieces.keySet());
        for (var e : plain.entrySet()) {
            int[] content = tokenizer.encode(e.getValue(), false, false);
            int[] expected = new int[content.length + 2];
            expected[0] = tokenizer.bos();
            System.arraycopy(content, 0, expected, 1, content.length);
            expected[expected.length - 1] = tokenizer.eos();
            List<Integer> got = pieces.get(e.getKey());
            if (got == null) continue; // a thread post: inside the aggregate
            assertArrayEquals(expected, got.stream().mapToInt(Integer::intValue).toArray(), e.getKey());
        }
        for (var u : units.entrySet()) assertEquals(u.getValue().get("tokens").asInt(), pieces.get(u.getKey()).size());

        // The binary file is the JSONL's ids as uint16; the mask has one int32 per token.
        byte[] bin = Files.readAllBytes(out.resolve(PackedOutput.TOKENS));
        assertEquals("uint16", m.dtype());
        assertEquals(all.size() * 2L, bin.length);
        ByteBuffer b = ByteBuffer.wrap(bin).order(ByteOrder.LITTLE_ENDIAN);
        for (int t : all) assertEquals(t, Short.toUnsignedInt(b.getShort()));
        assertEquals(all.size() * 4L, Files.size(out.resolve(PackedOutput.MASK)));

        // Manifest, report, plots.
        assertEquals(Set.of("books", "news", "reports", "web"), m.domains().keySet());
        assertEquals(m.tokens() - m.paddingTokens(), m.domains().values().stream().mapToLong(Manifest.Domain::outputTokens).sum());
        assertEquals(4, m.rejections().get("line-length"), "one-word lines and blobs, two of each");
        assertEquals(1, m.rejections().get("near-duplicate"));
        String report = Files.readString(out.resolve(Report.FILE));
        assertTrue(report.contains("| books |") && report.contains("| near-duplicate | 1 |"), report);
        for (String png : List.of(ReportPlots.LENGTHS, ReportPlots.DOMAINS, ReportPlots.REJECTIONS)) assertTrue(Files.size(out.resolve(png)) > 1000, png);
        assertFalse(Files.exists(out.resolve(".units.spill")), "the spill is removed");
    }

    @Test
    void theSameSeedGivesTheSameBytes() throws IOException {
        CorpusSettings s = settings().withLengths(2000, 0.5);
        run(s, dir.resolve("seed-a"));
        run(s, dir.resolve("seed-b"));
        Manifest c = run(s.withSeed(2), dir.resolve("seed-c"));
        assertTrue(c.mixing().shortUnits() >= 10, "short units to sample: " + c.mixing());
        for (String f : List.of(PackedOutput.TOKENS, PackedOutput.JSONL, PackedOutput.MASK, CorpusPipeline.UNITS, Manifest.FILE, Report.FILE)) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("seed-a").resolve(f)), Files.readAllBytes(dir.resolve("seed-b").resolve(f)), f);
        }
        assertFalse(Files.readString(dir.resolve("seed-a").resolve(CorpusPipeline.UNITS)).equals(Files.readString(dir.resolve("seed-c").resolve(CorpusPipeline.UNITS))),
                "another seed keeps other short units");
    }

    @Test
    void aConfiguredMixIsMetToTheToken() throws IOException {
        Map<String, Double> mix = Map.of("books", 0.5, "web", 0.3, "news", 0.2);
        Path out = dir.resolve("mixed");
        Manifest m = run(settings().withMix(mix, null), out);
        Map<String, Long> perDomain = new TreeMap<>();
        for (JsonNode s : lines(out.resolve(PackedOutput.JSONL))) {
            for (JsonNode p : s.get("pieces")) perDomain.merge(p.get("domain").asText(), p.get("length").asLong(), Long::sum);
        }
        long total = perDomain.values().stream().mapToLong(Long::longValue).sum();
        assertEquals(m.mixing().budget(), total);
        assertEquals(0L, perDomain.getOrDefault("reports", 0L), "a domain outside the mix is left out");
        for (var e : mix.entrySet()) {
            assertEquals(m.domains().get(e.getKey()).outputTokens(), perDomain.get(e.getKey()));
            assertEquals(e.getValue(), (double) perDomain.get(e.getKey()) / total, 1.0 / total, e.getKey());
        }
    }
}
