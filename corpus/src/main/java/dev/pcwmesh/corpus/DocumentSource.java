package dev.pcwmesh.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where documents come from, read one at a time in a fixed order (so a run is repeatable): a
 * {@link DirectorySource} or a {@link JsonlSource}. The Kafka stage reads a topic instead.
 */
public interface DocumentSource {

    /** Told of each document, or of an item that could not be read (with why). */
    interface Sink {
        void document(Document doc, long bytesDone);

        void unreadable(String id, String source, Rejection why, long bytesDone);
    }

    /** Bytes this source will read, for progress. */
    long totalBytes() throws IOException;

    void read(Sink sink) throws IOException;

    /** A directory (text, Markdown, HTML and PDF files beneath it) or a {@code .jsonl} file. */
    static DocumentSource open(Path path, JsonlSource.Fields fields) {
        if (Files.isDirectory(path)) return new DirectorySource(path);
        if (Files.isRegularFile(path)) return new JsonlSource(path, fields);
        throw new IllegalArgumentException("no such file or directory: " + path);
    }

    /** Several sources one after the other. */
    static DocumentSource concat(List<DocumentSource> sources) {
        return new DocumentSource() {
            @Override
            public long totalBytes() throws IOException {
                long n = 0;
                for (DocumentSource s : sources) n += s.totalBytes();
                return n;
            }

            @Override
            public void read(Sink sink) throws IOException {
                long[] before = {0};
                for (DocumentSource s : sources) {
                    long base = before[0];
                    s.read(new Sink() {
                        @Override
                        public void document(Document doc, long bytesDone) { sink.document(doc, base + bytesDone); }

                        @Override
                        public void unreadable(String id, String source, Rejection why, long bytesDone) { sink.unreadable(id, source, why, base + bytesDone); }
                    });
                    before[0] = base + s.totalBytes();
                }
            }
        };
    }
}
