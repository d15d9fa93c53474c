package dev.pcwmesh.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JSONL file: one JSON object per line with the text in {@link Fields#text} and optional id, domain,
 * group and order fields (names configurable). A line that is not such an object is unreadable, with why;
 * a line without an id gets {@code FILE:LINE}.
 */
public final class JsonlSource implements DocumentSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The field names read from each line. */
    public record Fields(String text, String id, String domain, String group, String order, String source) {
        public static Fields defaults() {
            return new Fields("text", "id", "domain", "group", "order", "source");
        }
    }

    private final Path file;
    private final Fields fields;

    public JsonlSource(Path file, Fields fields) {
        this.file = file;
        this.fields = fields;
    }

    @Override
    public long totalBytes() throws IOException {
        return Files.size(file);
    }

    @Override
    public void read(Sink sink) throws IOException {
        long done = 0;
        int lineNo = 0;
        String name = file.getFileName().toString();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                done += line.getBytes(StandardCharsets.UTF_8).length + 1;
                if (line.isBlank()) continue;
                String fallbackId = name + ":" + lineNo;
                try {
                    Document d = parse(JSON.readTree(line), fields, fallbackId, file.toString());
                    sink.document(d, done);
                } catch (IOException | IllegalArgumentException e) {
                    sink.unreadable(fallbackId, file.toString(), Rejection.of(Rejection.Reason.UNREADABLE, e.getMessage().lines().findFirst().orElse("")), done);
                }
            }
        }
    }

    /** A document from one JSON object; IllegalArgumentException when it is not one or lacks its text. */
    static Document parse(JsonNode node, Fields fields, String fallbackId, String fallbackSource) {
        if (node == null || !node.isObject()) throw new IllegalArgumentException("not a JSON object");
        JsonNode text = node.get(fields.text());
        if (text == null || !text.isTextual()) throw new IllegalArgumentException("no string field '" + fields.text() + "'");
        String id = string(node, fields.id());
        String source = string(node, fields.source());
        return new Document(id == null ? fallbackId : id, text.asText(), source == null ? fallbackSource + "#" + (id == null ? fallbackId : id) : source,
                string(node, fields.domain()), string(node, fields.group()), string(node, fields.order()));
    }

    static Document parse(String json, Fields fields, String fallbackId, String fallbackSource) {
        try {
            return parse(JSON.readTree(json), fields, fallbackId, fallbackSource);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
    }

    private static String string(JsonNode node, String field) {
        if (field == null) return null;
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
