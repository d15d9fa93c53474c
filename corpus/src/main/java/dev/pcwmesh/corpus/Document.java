package dev.pcwmesh.corpus;

import java.util.Objects;

/**
 * One input document as a source hands it over: its text (already extracted), a stable id, where it
 * came from, and the metadata that tags and aggregation use.
 *
 * @param id     stable and unique within a run (a path relative to the source root, a JSONL id field, a Kafka key)
 * @param text   the extracted text
 * @param source where it came from (a path, a URL, a topic), matched by domain rules
 * @param domain the domain its source metadata names, or null (then rules or {@link DomainTagger#DEFAULT})
 * @param group  what related short texts share (a directory, a thread, a book), or null
 * @param order  how it sorts within its group (a date, a section number, a file name), or null
 */
public record Document(String id, String text, String source, String domain, String group, String order) {
    public Document {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(text, "text");
        if (source == null) source = id;
    }
}
