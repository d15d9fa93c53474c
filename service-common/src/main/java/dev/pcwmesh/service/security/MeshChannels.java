package dev.pcwmesh.service.security;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * How a service calls another (the generator an encoder's FetchSegments): plaintext, or TLS trusting
 * the mesh's CA (PEM) and, for mutual TLS, presenting a client certificate and its PKCS#8 key
 * (PEM); and an API key sent with every call as {@code Authorization: Bearer}.
 */
public final class MeshChannels {
    private MeshChannels() { }

    public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> X_API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

    /**
     * Plaintext when {@code tls} is false; else TLS trusting {@code caPem} (the JVM's trust store
     * when absent), presenting {@code certPem}/{@code keyPem} when both are given.
     */
    public static ChannelCredentials credentials(boolean tls, Optional<Path> caPem, Optional<Path> certPem, Optional<Path> keyPem) {
        if (!tls) return InsecureChannelCredentials.create();
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
        try {
            if (caPem.isPresent()) b.trustManager(caPem.get().toFile());
            if (certPem.isPresent() != keyPem.isPresent()) {
                throw new IllegalArgumentException("a client certificate needs its key and the other way round");
            }
            if (certPem.isPresent()) b.keyManager(certPem.get().toFile(), keyPem.get().toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the mesh's TLS files", e);
        }
        return b.build();
    }

    /** Call credentials that send {@code key} as {@code Authorization: Bearer <key>}. */
    public static CallCredentials apiKey(String key) {
        if (key == null || key.isBlank()) throw new IllegalArgumentException("an empty API key");
        String value = "Bearer " + key.strip();
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
                try {
                    Metadata m = new Metadata();
                    m.put(AUTHORIZATION, value);
                    applier.apply(m);
                } catch (RuntimeException e) {
                    applier.fail(Status.UNAUTHENTICATED.withCause(e));
                }
            }
        };
    }
}
