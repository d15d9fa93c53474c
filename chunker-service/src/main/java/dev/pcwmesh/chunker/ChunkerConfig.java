package dev.pcwmesh.chunker;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;


import java.nio.file.Path;
import java.util.Optional;

/** The chunker's settings, under {@code pcw.*} (application.properties, environment {@code PCW_...}). */
@ConfigMapping(prefix = "pcw")
public interface ChunkerConfig {

    /** The GGUF model whose tokenizer cuts the windows; only its metadata is read, never its weights. */
    Path model();

    /** Tokens per window (W) when a request leaves {@code max_window_tokens} at 0. */
    @WithDefault("512")
    int windowTokens();

    Limits limits();

    Topics topics();

    Security security();

    /** Limits enforced on every request; beyond them a request is refused with a reason. */
    interface Limits {
        /**
         * Longest an Ingest with {@code wait_until_encoded} waits for the encoders (the call's own
         * deadline, when shorter, wins); DEADLINE_EXCEEDED after, with the document ingested all the same.
         */
        @WithDefault("300s")
        java.time.Duration encodeWait();

        /** Largest document accepted, in bytes of the raw input (and of the extracted text): INVALID_ARGUMENT beyond. */
        @WithDefault("16777216")
        long maxDocumentBytes();

        /** Most windows one document may be cut into: RESOURCE_EXHAUSTED beyond. */
        @WithDefault("4096")
        int maxWindows();

        /** Largest W a request may ask for (also capped by the model's trained context length). */
        @WithDefault("8192")
        int maxWindowTokens();

        /** Split and Ingest calls served at once over gRPC; beyond, RESOURCE_EXHAUSTED (BUSY) at once rather than a queue. */
        @WithDefault("16")
        int maxConcurrentRequests();

        /** Largest instruction (the shared prefix text), in bytes. */
        @WithDefault("8192")
        int maxInstructionBytes();
    }

    /** Kafka topics the chunker writes. The input topic is the {@code documents} channel's ({@code mp.messaging.incoming.documents.topic}). */
    interface Topics {
        /** Every window, key = {@code {documentId}/{index}}, value = a serialized {@code pcwmesh.v1.Window}; compacted. */
        @WithDefault("pcw.windows")
        String windows();

        /** Every document's manifest, key = document id, value = a serialized {@code DocumentManifest}; compacted. */
        @WithDefault("pcw.manifests")
        String manifests();

        /** Records of the documents topic that could not be ingested, with reason headers. */
        @WithDefault("pcw.documents.dlq")
        String documentsDlq();

        /** Segment locations the encoders publish (read for {@code wait_until_encoded}; the encoders create it). */
        @WithDefault("pcw.segments")
        String segments();

        /** Create the topics at start-up when they are missing (manifests compacted). */
        @WithDefault("true")
        boolean create();

        /** Partitions of topics the chunker creates (windows spread over encoders by window key). */
        @WithDefault("8")
        int partitions();

        /** Replication factor of topics the chunker creates. */
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
