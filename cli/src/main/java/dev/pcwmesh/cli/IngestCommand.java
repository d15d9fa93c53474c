package dev.pcwmesh.cli;

import dev.pcwmesh.client.MeshClient;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.IngestRequest;
import com.google.protobuf.ByteString;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code pcw ingest FILE}: sends a document to the running mesh's chunker and prints its id. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = "Ingest a document (text, Markdown, HTML or PDF) into the running mesh; print its document id.")
public final class IngestCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "the document")
    Path file;

    @Option(names = "--media-type", paramLabel = "TYPE", description = "text/plain, text/markdown, text/html or application/pdf (default: from the file name)")
    String mediaType;

    @Option(names = "--id", paramLabel = "ID", description = "document id to use (default: derived from the content)")
    String id;

    @Option(names = "--instruction", defaultValue = "", paramLabel = "TEXT", description = "text after BOS that every window attends to")
    String instruction;

    @Option(names = {"-w", "--window-tokens"}, defaultValue = "0", paramLabel = "N", description = "most tokens per window (default: the chunker's)")
    int windowTokens;

    @Mixin MeshOptions mesh;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        IngestRequest.Builder r = IngestRequest.newBuilder().setData(ByteString.copyFrom(Files.readAllBytes(file)))
                .setMediaType(mediaType != null ? mediaType : mediaTypeOf(file)).setInstruction(instruction).setMaxWindowTokens(windowTokens);
        if (id != null) r.setDocumentId(id);
        try (MeshClient client = MeshClient.connect(mesh.address("chunker"), mesh.address("generator"), Duration.ofMinutes(5), MeshClient.Security.fromEnvironment())) {
            DocumentManifest m = client.ingest(r.build());
            PrintWriter out = spec.commandLine().getOut();
            out.println(m.getDocumentId());
            out.flush();
            spec.commandLine().getErr().printf("%s: %d windows of at most %d tokens, %d tokens%n", file.getFileName(), m.getWindowCount(),
                    m.getMaxWindowTokens(), m.getWindowTokensList().stream().mapToInt(Integer::intValue).sum());
        }
        return 0;
    }

    static String mediaTypeOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".md") || name.endsWith(".markdown")) return "text/markdown";
        if (name.endsWith(".html") || name.endsWith(".htm")) return "text/html";
        if (name.endsWith(".pdf")) return "application/pdf";
        return "text/plain";
    }
}
