package dev.pcwmesh.corpus;

import dev.pcwmesh.service.Rejected;
import dev.pcwmesh.service.TextExtractor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every text ({@code .txt}), Markdown ({@code .md}), HTML ({@code .html}, {@code .htm}) and PDF file
 * beneath a directory, in path order, extracted by the chunker's {@link TextExtractor}. A document's id is
 * its path relative to the root; its domain the first folder below the root (none for files at the
 * root); its group the folder it is in; its order its file name. Other files are passed over.
 */
public final class DirectorySource implements DocumentSource {
    static final Map<String, String> MEDIA_TYPES = Map.of("txt", TextExtractor.PLAIN, "text", TextExtractor.PLAIN,
            "md", TextExtractor.MARKDOWN, "markdown", TextExtractor.MARKDOWN, "html", TextExtractor.HTML, "htm", TextExtractor.HTML,
            "xhtml", TextExtractor.HTML, "pdf", TextExtractor.PDF);

    private final Path root;

    public DirectorySource(Path root) {
        this.root = root;
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).filter(p -> mediaType(p) != null)
                    .sorted((a, b) -> NaturalOrder.INSTANCE.compare(root.relativize(a).toString(), root.relativize(b).toString())).toList();
        }
    }

    static String mediaType(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? null : MEDIA_TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    @Override
    public long totalBytes() throws IOException {
        long n = 0;
        for (Path p : files()) n += Files.size(p);
        return n;
    }

    @Override
    public void read(Sink sink) throws IOException {
        long done = 0;
        for (Path p : files()) {
            byte[] data = Files.readAllBytes(p);
            done += data.length;
            Path rel = root.relativize(p);
            String id = rel.toString().replace('\\', '/');
            String domain = rel.getNameCount() > 1 ? rel.getName(0).toString() : null;
            String group = rel.getParent() == null ? null : rel.getParent().toString().replace('\\', '/');
            try {
                String text = TextExtractor.fromBytes(data, mediaType(p));
                sink.document(new Document(id, text, p.toString(), domain, group, rel.getFileName().toString()), done);
            } catch (Rejected r) {
                sink.unreadable(id, p.toString(), Rejection.of(Rejection.Reason.UNREADABLE, r.getMessage()), done);
            }
        }
    }
}
