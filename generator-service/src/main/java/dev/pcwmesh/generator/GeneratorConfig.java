package dev.pcwmesh.generator;

import dev.pcwmesh.runtime.model.Backend;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The generator's settings, under {@code pcw.*} (application.properties, environment {@code PCW_...}). */
@ConfigMapping(prefix = "pcw")
public interface GeneratorConfig {

    /** The GGUF model that answers; it must be the model the chunker and encoders use (same fingerprint). */
    Path model();

    /**
     * Where the model runs: {@code cuda} (an NVIDIA GPU; start-up fails, saying why, without one),
     * {@code cpu}, or {@code auto}, a GPU when one is usable, else the CPU.
     */
    @WithDefault("auto")
    Backend backend();

    Limits limits();

    Topics topics();

    Segments segments();

    OpenAi openai();

    Security security();

    /** Limits enforced on every question; beyond them it is refused with a reason. */
    interface Limits {
        /** Largest question, in tokens after the question format is applied: INVALID_ARGUMENT beyond. */
        @WithDefault("512")
        int maxQuestionTokens();

        /** Most answer tokens; a request asking for more (or for 0, the default) gets this many. */
        @WithDefault("256")
        int maxNewTokens();

        /** Asks answered at once (gRPC and Kafka together); beyond, gRPC gets RESOURCE_EXHAUSTED (BUSY) at once. */
        @WithDefault("4")
        int maxConcurrentAsks();

        /** Most documents one ask may name. */
        @WithDefault("16")
        int maxDocumentsPerAsk();

        /**
         * How long an ask waits for a document's windows to arrive on the windows topic after its
         * manifest (they are published before it, but on other partitions); DEADLINE_EXCEEDED after.
         */
        @WithDefault("30s")
        Duration documentWait();

        /** Most windows one ask may place (all its documents together): RESOURCE_EXHAUSTED beyond. */
        @WithDefault("4096")
        int maxWindowsPerAsk();

        /**
         * Largest HTTP request body of the OpenAI-compatible endpoint, in bytes: 413 beyond, checked
         * on the Content-Length header before the body is read and on the bytes before they are
         * parsed. A chat request names its documents by id, so 1 MiB is a long conversation. Keep it
         * below {@code quarkus.http.limits.max-body-size} (10 MiB), which bounds what a body without
         * a Content-Length may buffer before this check sees it.
         */
        @WithDefault("1048576")
        int maxRequestBytes();
    }

    /** Kafka topics the generator reads and writes. */
    interface Topics {
        /** Manifests (compacted, key = document id), written by the chunker. */
        @WithDefault("pcw.manifests")
        String manifests();

        /** Windows (compacted, key = document id/index), written by the chunker. */
        @WithDefault("pcw.windows")
        String windows();

        /** Segment locations (compacted, key = document id/index or document id/prefix), written by the encoders. */
        @WithDefault("pcw.segments")
        String segments();

        /** Answers to the questions of the {@code questions} channel, key = request id, value = a serialized {@code AnswerRecord}. */
        @WithDefault("pcw.answers")
        String answers();

        /** Question records that could not be read, with reason headers. */
        @WithDefault("pcw.questions.dlq")
        String questionsDlq();

        /** Create missing topics at start-up (so the generator may start before the chunker and encoders). */
        @WithDefault("true")
        boolean create();

        @WithDefault("8")
        int partitions();

        @WithDefault("1")
        short replicationFactor();
    }

    /** Where segments come from. */
    interface Segments {
        /** Bytes of KV segments kept in this generator's cache (least recently used go first). */
        @WithDefault("1073741824")
        long cacheBytes();

        /**
         * How long an ask waits for the encoders to publish its windows' segments. A window still
         * missing after that is encoded here when {@code encode-locally} is on, otherwise the ask
         * fails with DEADLINE_EXCEEDED. The caller's own deadline always wins.
         */
        @WithDefault("60s")
        Duration encodeWait();

        /**
         * Encode here what the encoders have not published in time, could not serve, or cannot serve
         * (a position encoding other than the model file's: encoders encode windows under the file's).
         */
        @WithDefault("true")
        boolean encodeLocally();

        /** Deadline of one FetchSegments call to an encoder. */
        @WithDefault("30s")
        Duration fetchTimeout();

        /** Largest gRPC message accepted from an encoder (a segment part is at most 1 MiB). */
        @WithDefault("4194304")
        int maxInboundMessageBytes();
    }

    /** The OpenAI-compatible HTTP endpoint ({@code /v1/chat/completions}, {@code /v1/models}). */
    interface OpenAi {
        /**
         * The model's name in responses and in {@code /v1/models}; by default the GGUF file's name
         * without its extension ({@code pcw-demo} for {@code models/pcw-demo.gguf}). Requests may
         * name any model: the generator serves one.
         */
        Optional<String> modelName();
    }

    /**
     * Client authentication and the generator's own calls to encoders (see README "Security"). Keys
     * come from a file or the environment, never from application.properties.
     */
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

        /** Asks (gRPC Ask and Rank, OpenAI chat) one key may have running at once; 0: no per-key limit. */
        @WithDefault("0")
        int maxConcurrentAsksPerKey();

        /** How the generator calls encoders (FetchSegments). */
        Client client();
    }

    /** The generator as a client of the encoders. */
    interface Client {
        /** The key sent to encoders, read from this file (a mounted Secret). */
        Optional<Path> apiKeyFile();

        /** The key sent to encoders (environment {@code PCW_SECURITY_CLIENT_API_KEY}); the file wins. */
        Optional<String> apiKey();

        /** Whether to call encoders over TLS. */
        @WithDefault("false")
        boolean tls();

        /** The CA (PEM) that signed the encoders' certificates; the JVM's trust store when absent. */
        Optional<Path> caFile();

        /** For mutual TLS: this generator's client certificate (PEM) ... */
        Optional<Path> certFile();

        /** ... and its private key (PKCS#8 PEM). */
        Optional<Path> keyFile();
    }
}
