package dev.pcwmesh.chunker;

import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.proto.v1.SplitRequest;
import dev.pcwmesh.proto.v1.SplitResponse;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.context.Chunker;
import dev.pcwmesh.runtime.kv.SegmentIds;
import dev.pcwmesh.service.Rejected;
import dev.pcwmesh.service.TextExtractor;
import io.grpc.Status;
import io.grpc.Context;
import io.grpc.Deadline;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * What the chunker does, whatever the transport: validate a document, extract its text, cut it into
 * windows with the runtime's {@link Chunker}, name it, and (for ingest) publish windows and manifest.
 * gRPC and the Kafka consumer are thin shells over this class.
 */
@ApplicationScoped
public class Documents {
    private static final Logger LOG = Logger.getLogger(Documents.class);
    /** Caller-chosen ids: they become Kafka keys, log fields and file names downstream. */
    static final Pattern DOCUMENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

    private final ChunkerConfig config;
    private final ModelTokenizer model;
    private final WindowPublisher publisher;
    private final MeterRegistry metrics;
    private final EncodedWindows encodedWindows;

    public Documents(ChunkerConfig config, ModelTokenizer model, WindowPublisher publisher, MeterRegistry metrics, EncodedWindows encodedWindows) {
        this.config = config;
        this.model = model;
        this.publisher = publisher;
        this.metrics = metrics;
        this.encodedWindows = encodedWindows;
        // Registered at start, so that a scrape shows them at 0 before the first document.
        metrics.counter("pcw.chunker.documents.ingested", "source", "grpc");
        metrics.counter("pcw.chunker.documents.ingested", "source", "kafka");
        metrics.counter("pcw.chunker.windows.published");
    }

    /** A document cut into windows, not yet published. */
    public record Cut(String documentId, String mediaType, long textBytes, int windowTokens, int[] prefix, List<Window> windows) {}

    /** Split: text to windows, nothing stored. */
    public SplitResponse split(SplitRequest request) {
        try {
            String text = request.getText();
            checkSize(text.getBytes(StandardCharsets.UTF_8).length, "text");
            Cut cut = cut(null, text, TextExtractor.PLAIN, request.getMaxWindowTokens(), "", text.getBytes(StandardCharsets.UTF_8).length);
            return SplitResponse.newBuilder().addAllWindows(cut.windows()).build();
        } catch (Rejected e) {
            rejected(e, "split");
            throw e;
        }
    }

    /** Ingest: cut, publish every window to pcw.windows and the manifest to pcw.manifests, return the manifest. */
    public DocumentManifest ingest(IngestRequest request, String source) {
        try {
            Cut cut = cut(request);
            DocumentManifest manifest = DocumentManifest.newBuilder()
                    .setDocumentId(cut.documentId())
                    .setModelFingerprint(model.fingerprint())
                    .setWindowCount(cut.windows().size())
                    .addAllWindowTokens(cut.windows().stream().map(Window::getTokensCount).toList())
                    .addAllPrefixTokens(ints(cut.prefix()))
                    .setMaxWindowTokens(cut.windowTokens())
                    .setTextBytes(cut.textBytes())
                    .setMediaType(cut.mediaType())
                    .setIngestedAtMs(System.currentTimeMillis())
                    .build();
            publisher.publish(manifest, cut.windows());
            metrics.counter("pcw.chunker.documents.ingested", "source", source).increment();
            metrics.counter("pcw.chunker.windows.published").increment(cut.windows().size());
            LOG.infof("ingested %s (%s, %d bytes) as %d windows of at most %d tokens [%s]", cut.documentId(), cut.mediaType(),
                    cut.textBytes(), cut.windows().size(), cut.windowTokens(), source);
            if (request.getWaitUntilEncoded() && !source.equals("kafka")) return awaitEncoded(manifest);
            return manifest;
        } catch (Rejected e) {
            rejected(e, source);
            throw e;
        }
    }

    /**
     * The manifest once the encoders have published every window's segment (windows_encoded filled
     * in); DEADLINE_EXCEEDED (NOT_ENCODED) when pcw.limits.encode-wait or the call's deadline passes
     * first. The document stays ingested either way.
     */
    private DocumentManifest awaitEncoded(DocumentManifest manifest) {
        long deadline = System.nanoTime() + config.limits().encodeWait().toNanos();
        Deadline call = Context.current().getDeadline();
        if (call != null) deadline = Math.min(deadline, System.nanoTime() + call.timeRemaining(TimeUnit.NANOSECONDS) - 200_000_000L);
        int encoded;
        try {
            encoded = encodedWindows.await(manifest.getDocumentId(), manifest.getWindowCount(), manifest.getPrefixTokensCount() > 0, deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Rejected(Status.Code.UNAVAILABLE, "INTERRUPTED", "interrupted while waiting for the encoders", e);
        }
        if (encoded < manifest.getWindowCount()) {
            throw new Rejected(Status.Code.DEADLINE_EXCEEDED, "NOT_ENCODED", "document " + manifest.getDocumentId() + " is ingested, but only "
                    + encoded + " of " + manifest.getWindowCount() + " windows were encoded within pcw.limits.encode-wait or the call's deadline");
        }
        return manifest.toBuilder().setWindowsEncoded(encoded).build();
    }

    /** Validates and cuts an ingest request (nothing published). */
    public Cut cut(IngestRequest request) {
        String mediaType = TextExtractor.normalize(request.getMediaType());
        String text;
        long inputBytes;
        switch (request.getContentCase()) {
            case TEXT -> {
                inputBytes = request.getText().getBytes(StandardCharsets.UTF_8).length;
                checkSize(inputBytes, "text");
                text = TextExtractor.fromText(request.getText(), mediaType);
            }
            case DATA -> {
                inputBytes = request.getData().size();
                checkSize(inputBytes, "data");
                text = TextExtractor.fromBytes(request.getData().toByteArray(), mediaType);
            }
            default -> throw Rejected.invalid("EMPTY", "the request carries neither text nor data");
        }
        String id = request.getDocumentId();
        if (!id.isEmpty() && !DOCUMENT_ID.matcher(id).matches()) {
            throw Rejected.invalid("BAD_DOCUMENT_ID", "document_id must be 1-128 characters of letters, digits and . _ : @ - (starting with a letter or digit)");
        }
        String instruction = request.getInstruction();
        if (instruction.getBytes(StandardCharsets.UTF_8).length > config.limits().maxInstructionBytes()) {
            throw Rejected.invalid("INSTRUCTION_TOO_LARGE", "the instruction exceeds pcw.limits.max-instruction-bytes=" + config.limits().maxInstructionBytes());
        }
        if (instruction.indexOf('\0') >= 0) throw Rejected.invalid("BINARY", "the instruction holds a NUL character");
        return cut(id, text, mediaType, request.getMaxWindowTokens(), instruction, inputBytes);
    }

    private Cut cut(String documentId, String text, String mediaType, int requestedWindow, String instruction, long inputBytes) {
        int w = windowTokens(requestedWindow);
        if (text.isBlank()) {
            throw Rejected.invalid("EMPTY", TextExtractor.PLAIN.equals(mediaType) || TextExtractor.MARKDOWN.equals(mediaType)
                    ? "the document is empty" : "no text could be extracted from the " + mediaType + " document");
        }
        int nul = text.indexOf('\0');
        if (nul >= 0) throw Rejected.invalid("BINARY", "the document holds a NUL character at index " + nul + ": it looks binary, not text");
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        checkSize(utf8.length, "extracted text");

        int[] tokens = model.tokenizer().encode(text, false, false);
        List<int[]> pieces = new Chunker(model.tokenizer(), w).split(tokens);
        int max = config.limits().maxWindows();
        if (pieces.size() > max) {
            throw new Rejected(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_WINDOWS", "the document is " + tokens.length + " tokens, "
                    + pieces.size() + " windows of at most " + w + " tokens; pcw.limits.max-windows is " + max);
        }
        int[] prefix = model.prefix(instruction);
        // Split names nothing (documentId null); ingest takes the caller's id or derives one from the content.
        String id = documentId == null ? "" : documentId.isEmpty() ? contentId(model.fingerprint(), w, instruction, text) : documentId;
        List<Integer> prefixList = ints(prefix);
        List<Window> windows = new ArrayList<>(pieces.size());
        for (int i = 0; i < pieces.size(); i++) {
            int[] piece = pieces.get(i);
            windows.add(Window.newBuilder()
                    .setDocumentId(id)
                    .setIndex(i)
                    .addAllTokens(ints(piece))
                    .setText(text(piece))
                    .setModelFingerprint(model.fingerprint())
                    .addAllPrefixTokens(prefixList)
                    .build());
        }
        return new Cut(id, mediaType, inputBytes, w, prefix, windows);
    }

    /**
     * The content-derived document id: hex SHA-256 over the model fingerprint, the window size, the
     * instruction and the text (each length-prefixed), so the same text ingested twice under the same
     * settings gets the same id, and a change in any of them gives another.
     */
    public static String contentId(String fingerprint, int windowTokens, String instruction, String text) {
        MessageDigest sha = SegmentIds.sha256();
        sha.update("pcw-document-v1".getBytes(StandardCharsets.US_ASCII));
        field(sha, fingerprint.getBytes(StandardCharsets.UTF_8));
        field(sha, ByteBuffer.allocate(4).putInt(windowTokens).array());
        field(sha, instruction.getBytes(StandardCharsets.UTF_8));
        field(sha, text.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void field(MessageDigest sha, byte[] bytes) {
        sha.update(ByteBuffer.allocate(8).putLong(bytes.length).array());
        sha.update(bytes);
    }

    private int windowTokens(int requested) {
        if (requested < 0) throw Rejected.invalid("BAD_WINDOW", "max_window_tokens must be positive (0 for the default), got " + requested);
        int w = requested == 0 ? config.windowTokens() : requested;
        int cap = config.limits().maxWindowTokens();
        if (model.contextLength() > 0) cap = Math.min(cap, model.contextLength());
        if (w > cap) {
            throw Rejected.invalid("WINDOW_TOO_LARGE", "max_window_tokens " + w + " exceeds " + cap
                    + " (pcw.limits.max-window-tokens and the model's trained context " + model.contextLength() + ")");
        }
        return w;
    }

    private void checkSize(long bytes, String what) {
        long max = config.limits().maxDocumentBytes();
        if (bytes > max) throw Rejected.invalid("TOO_LARGE", "the " + what + " is " + bytes + " bytes; pcw.limits.max-document-bytes is " + max);
    }

    private void rejected(Rejected e, String source) {
        metrics.counter("pcw.chunker.documents.rejected", "reason", e.reason(), "source", source).increment();
        LOG.debugf("rejected [%s]: %s", source, e.getMessage());
    }

    /** The window's text: its tokens' bytes as UTF-8 (a character cut between windows shows as U+FFFD; the tokens are authoritative). */
    private String text(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : tokens) out.writeBytes(model.tokenizer().tokenBytes(id));
        return out.toString(StandardCharsets.UTF_8);
    }

    private static List<Integer> ints(int[] a) {
        List<Integer> l = new ArrayList<>(a.length);
        for (int v : a) l.add(v);
        return l;
    }
}
