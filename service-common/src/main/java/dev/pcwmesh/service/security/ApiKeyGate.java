package dev.pcwmesh.service.security;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The decision on one request's credentials, the same for HTTP and gRPC: open when security is off
 * or for the health and metrics paths ({@code /q/...}), accepted with the key's name, or refused
 * with a reason that never holds the key.
 */
public final class ApiKeyGate {
    /** What the gate says about a request. */
    public sealed interface Outcome permits Open, Accepted, Refused { }

    /** Security is off, or the path is open to all. */
    public record Open() implements Outcome { }

    /** A known key, by name. */
    public record Accepted(String keyName) implements Outcome { }

    /** No key, or an unknown one. */
    public record Refused(String reason) implements Outcome { }

    private final boolean enabled;
    private final ApiKeys keys;

    public ApiKeyGate(boolean enabled, ApiKeys keys) {
        if (enabled && keys.isEmpty()) {
            throw new IllegalStateException("pcw.security.enabled is true but no API keys are configured: "
                    + "set pcw.security.api-keys-file (a mounted Secret) or the environment variable PCW_SECURITY_API_KEYS");
        }
        this.enabled = enabled;
        this.keys = keys;
    }

    /** The gate of a service's settings ({@code pcw.security.enabled}, {@code api-keys-file}, {@code api-keys}). */
    public static ApiKeyGate of(boolean enabled, Optional<Path> keysFile, Optional<String> inlineKeys) {
        return new ApiKeyGate(enabled, enabled ? ApiKeys.load(keysFile, inlineKeys) : ApiKeys.of());
    }

    public boolean enabled() { return enabled; }

    /** Whether a path is open without credentials: health, metrics and the rest of {@code /q/}. */
    public static boolean openPath(String path) {
        return path != null && (path.equals("/q") || path.startsWith("/q/"));
    }

    /** The name of a presented key, when it is one of the accepted keys. */
    public Optional<String> identify(String presentedKey) {
        return keys.identify(presentedKey);
    }

    /** The outcome for a request to {@code path} with these header values (either may be null). */
    public Outcome check(String path, String authorization, String xApiKey) {
        if (!enabled || openPath(path)) return new Open();
        Optional<String> key = ApiKeys.presented(authorization, xApiKey);
        if (key.isEmpty()) return new Refused("no credentials: send Authorization: Bearer <key> or x-api-key: <key>");
        return keys.identify(key.get()).<Outcome>map(Accepted::new).orElseGet(() -> new Refused("the API key is not valid"));
    }
}
