package dev.pcwmesh.encoder;

import dev.pcwmesh.runtime.model.Backend;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.util.Optional;

/** The encoder's settings, under {@code pcw.*} (application.properties, environment {@code PCW_...}). */
@ConfigMapping(prefix = "pcw")
public interface EncoderConfig {

    /** The GGUF model that encodes windows (weights memory-mapped); windows cut by another model's tokenizer are refused. */
    Path model();

    /**
     * Where the model runs: {@code cuda} (an NVIDIA GPU; start-up fails, saying why, without one),
     * {@code cpu}, or {@code auto}, a GPU when one is usable, else the CPU.
     */
    @WithDefault("auto")
    Backend backend();

    Serving encoder();

    Limits limits();

    Store store();

    Topics topics();

    Security security();

    /** How this instance encodes and serves. */
    interface Serving {
        /**
         * host:port under which the generators reach this instance's gRPC server, written into every
         * {@code SegmentLocation}; absent: {@code localhost:<the HTTP/gRPC port>}.
         */
        Optional<String> advertisedAddress();

        /** Windows from Kafka encoded at once (the size of the worker pool the {@code windows} channel runs on). */
        @WithDefault("2")
        int threads();

        /** Largest part FetchSegments sends, in bytes (at most 1 MiB, the protocol's bound). */
        @WithDefault("1048576")
        int partBytes();
    }

    /** Limits enforced on every window and request; beyond them a window is refused with a reason. */
    interface Limits {
        /** Most tokens in one window (also: prefix + window at most the model's trained context). */
        @WithDefault("8192")
        int maxWindowTokens();

        /** Encode calls served at once over gRPC; beyond, RESOURCE_EXHAUSTED (BUSY) at once rather than a queue. */
        @WithDefault("4")
        int maxConcurrentEncodes();

        /** Most windows in one Encode request: INVALID_ARGUMENT (TOO_MANY_WINDOWS) beyond. */
        @WithDefault("64")
        int maxWindowsPerRequest();
    }

    /** The segment store: least recently used segments leave memory first, and disk after. */
    interface Store {
        /** Bytes of serialized segments held in memory. */
        @WithDefault("1073741824")
        long memoryBytes();

        /** Directory of segment files ({@code <segment id>.kv}); one per encoder instance, kept across restarts. */
        Path diskDir();

        /** Bytes of segment files kept in {@link #diskDir()}; 0 keeps segments in memory only. */
        @WithDefault("10737418240")
        long diskBytes();
    }

    /** Kafka topics the encoder writes. The input topic is the {@code windows} channel's ({@code mp.messaging.incoming.windows.topic}). */
    interface Topics {
        /** Where each segment lives, key {@code {documentId}/{index}} or {@code {documentId}/prefix}, value a serialized {@code SegmentLocation}; compacted. */
        @WithDefault("pcw.segments")
        String segments();

        /** Windows that could not be encoded, unchanged, with reason headers. */
        @WithDefault("pcw.windows.dlq")
        String windowsDlq();

        /** Create the topics at start-up when they are missing (windows and segments compacted). */
        @WithDefault("true")
        boolean create();

        /** Partitions of topics the encoder creates. */
        @WithDefault("8")
        int partitions();

        /** Replication factor of topics the encoder creates. */
        @WithDefault("1")
        short replicationFactor();
    }

    /** Client authentication by API key (see README "Security"); keys from a file or the environment only. */
    interface Security {
        /** Whether gRPC and HTTP calls (all but {@code /q/...}) need an API key; off by default. */
        @WithDefault("false")
        boolean enabled();

        /**
         * Whether every request but {@code /q/*} must come with a client certificate of the mesh's CA
         * (mutual TLS; the profile {@code mtls}); one of another CA is not verified and counts as none.
         */
        @WithDefault("false")
        boolean mtls();

        /** The accepted keys, one {@code name:key} or {@code name:sha256:<hex>} a line (a mounted Secret). */
        Optional<Path> apiKeysFile();

        /** Accepted keys, comma-separated entries as in the file (environment {@code PCW_SECURITY_API_KEYS}). */
        Optional<String> apiKeys();
    }
}
