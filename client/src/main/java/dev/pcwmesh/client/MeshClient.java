package dev.pcwmesh.client;

import com.google.protobuf.ByteString;
import dev.pcwmesh.proto.v1.AnswerEvent;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChunkerGrpc;
import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.DocumentRef;
import dev.pcwmesh.proto.v1.GeneratorGrpc;
import dev.pcwmesh.proto.v1.IngestRequest;
import dev.pcwmesh.proto.v1.RankRequest;
import dev.pcwmesh.proto.v1.RankResponse;
import dev.pcwmesh.proto.v1.SplitRequest;
import dev.pcwmesh.proto.v1.SplitResponse;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A client of a running mesh: ingest documents through the chunker, ask the generator and read
 * its answer as it streams, rank documents' windows for a query, look a document up. Blocking
 * calls over gRPC, plaintext or TLS, with an optional API key ({@link Security}); errors are the
 * services' {@link StatusRuntimeException}s, whose description starts with the short reason
 * (UNAUTHENTICATED without a valid key).
 */
public final class MeshClient implements AutoCloseable {
    /** Inbound messages up to this size (a manifest of a very long document is the largest). */
    private static final int MAX_INBOUND_BYTES = 16 << 20;

    /**
     * How the client reaches a mesh with security on: an API key sent as
     * {@code Authorization: Bearer <key>} on every call (null: none), and TLS trusting {@code caPem}
     * (null: the JVM's trust store), presenting {@code certPem} and its PKCS#8 {@code keyPem} when
     * the services require client certificates (mutual TLS).
     */
    public record Security(String apiKey, boolean tls, Path caPem, Path certPem, Path keyPem) {
        /** Plaintext, no key: the local mesh of {@code pcw mesh up}. */
        public static Security none() {
            return new Security(null, false, null, null, null);
        }

        /**
         * From the environment: {@code PCW_API_KEY}; {@code PCW_TLS=true} (or any of the files set)
         * for TLS, with {@code PCW_TLS_CA_FILE}, {@code PCW_TLS_CERT_FILE}, {@code PCW_TLS_KEY_FILE}.
         */
        public static Security fromEnvironment() {
            return fromEnvironment(System.getenv());
        }

        static Security fromEnvironment(java.util.Map<String, String> env) {
            String key = blankToNull(env.get("PCW_API_KEY"));
            Path ca = path(env.get("PCW_TLS_CA_FILE"));
            Path cert = path(env.get("PCW_TLS_CERT_FILE"));
            Path pk = path(env.get("PCW_TLS_KEY_FILE"));
            boolean tls = Boolean.parseBoolean(env.getOrDefault("PCW_TLS", "false")) || ca != null || cert != null;
            return new Security(key, tls, ca, cert, pk);
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s.strip();
        }

        private static Path path(String s) {
            return blankToNull(s) == null ? null : Path.of(s.strip());
        }

        ChannelCredentials credentials() {
            if (!tls) return InsecureChannelCredentials.create();
            TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
            try {
                if (caPem != null) b.trustManager(caPem.toFile());
                if ((certPem == null) != (keyPem == null)) throw new IllegalArgumentException("a client certificate needs its key (PCW_TLS_CERT_FILE with PCW_TLS_KEY_FILE)");
                if (certPem != null) b.keyManager(certPem.toFile(), keyPem.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the TLS files", e);
            }
            return b.build();
        }
    }

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ManagedChannel chunkerChannel;
    private final ManagedChannel generatorChannel;
    private final Channel chunker;
    private final Channel generator;
    private final Duration timeout;

    private MeshClient(ManagedChannel chunker, ManagedChannel generator, Duration timeout, String apiKey) {
        this.chunkerChannel = chunker;
        this.generatorChannel = generator;
        this.chunker = withKey(chunker, apiKey);
        this.generator = withKey(generator, apiKey);
        this.timeout = timeout;
    }

    private static Channel withKey(ManagedChannel channel, String apiKey) {
        if (apiKey == null) return channel;
        Metadata m = new Metadata();
        m.put(AUTHORIZATION, "Bearer " + apiKey);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(m));
    }

    /**
     * A client of the chunker and generator at these {@code host:port} addresses; every call has
     * {@code timeout} as its deadline.
     */
    public static MeshClient connect(String chunkerAddress, String generatorAddress, Duration timeout) {
        return connect(chunkerAddress, generatorAddress, timeout, Security.none());
    }

    /** {@link #connect(String, String, Duration)} to a mesh with security on (API key, TLS, mutual TLS). */
    public static MeshClient connect(String chunkerAddress, String generatorAddress, Duration timeout, Security security) {
        ChannelCredentials credentials = security.credentials();
        return new MeshClient(channel(chunkerAddress, credentials), channel(generatorAddress, credentials), timeout, security.apiKey());
    }

    private static ManagedChannel channel(String address, ChannelCredentials credentials) {
        return Grpc.newChannelBuilder(address, credentials).maxInboundMessageSize(MAX_INBOUND_BYTES).build();
    }

    /** Ingests a file's bytes of this media type (text/plain, text/markdown, text/html, application/pdf) and returns its manifest. */
    public DocumentManifest ingest(byte[] data, String mediaType, String documentId) {
        IngestRequest.Builder r = IngestRequest.newBuilder().setData(ByteString.copyFrom(data)).setMediaType(mediaType);
        if (documentId != null) r.setDocumentId(documentId);
        return ingest(r.build());
    }

    public DocumentManifest ingest(IngestRequest request) {
        return ChunkerGrpc.newBlockingStub(chunker).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).ingest(request);
    }

    /** Cuts text into windows as Ingest would, storing nothing ({@code maxWindowTokens} 0: the chunker's default). */
    public SplitResponse split(String text, int maxWindowTokens) {
        return ChunkerGrpc.newBlockingStub(chunker).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .split(SplitRequest.newBuilder().setText(text).setMaxWindowTokens(maxWindowTokens).build());
    }

    /** Asks; {@code text} receives the answer piece by piece as it completes; returns the figures of the final event. */
    public AnswerFigures ask(AskRequest request, Consumer<String> text) {
        Iterator<AnswerEvent> events = GeneratorGrpc.newBlockingStub(generator)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).ask(request);
        AnswerFigures figures = null;
        while (events.hasNext()) {
            AnswerEvent e = events.next();
            if (e.hasDone()) figures = e.getDone();
            else text.accept(e.getText());
        }
        if (figures == null) throw new IllegalStateException("the generator ended the answer without its figures");
        return figures;
    }

    /** The documents' windows by the attention the query gives them, best first (the select strategy's scoring). */
    public RankResponse rank(RankRequest request) {
        return GeneratorGrpc.newBlockingStub(generator).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).rank(request);
    }

    /** The document's manifest as the generator sees it (windows_encoded filled in). */
    public DocumentManifest document(String documentId) {
        return GeneratorGrpc.newBlockingStub(generator).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .getDocument(DocumentRef.newBuilder().setDocumentId(documentId).build());
    }

    @Override
    public void close() {
        chunkerChannel.shutdownNow();
        generatorChannel.shutdownNow();
    }
}
