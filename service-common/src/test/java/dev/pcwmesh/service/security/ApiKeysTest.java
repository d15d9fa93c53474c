package dev.pcwmesh.service.security;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiKeysTest {
    @Test
    void keysFromAFileAndTheEnvironmentPlainOrHashed(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, "# comment\n\nalice: alice-secret\nbob:sha256:" + ApiKeys.sha256Hex("bob-secret").toUpperCase() + "\n");
        ApiKeys keys = ApiKeys.load(Optional.of(file), Optional.of("carol:carol-secret, dave:sha256:" + ApiKeys.sha256Hex("d")));
        assertEquals(4, keys.size());
        assertEquals(Optional.of("alice"), keys.identify("alice-secret"));
        assertEquals(Optional.of("bob"), keys.identify("bob-secret"));
        assertEquals(Optional.of("carol"), keys.identify("carol-secret"));
        assertEquals(Optional.of("dave"), keys.identify("d"));
        assertEquals(Optional.empty(), keys.identify("alice-secreT"));
        assertEquals(Optional.empty(), keys.identify(ApiKeys.sha256Hex("bob-secret")), "a digest is not itself a key");
        assertEquals(Optional.empty(), keys.identify(""));
        assertEquals(Optional.empty(), keys.identify(null));
    }

    @Test
    void badEntriesAreRefusedWithoutRepeatingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.of("just-a-secret-value"));
        assertFalse(e.getMessage().contains("just-a-secret-value"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.of("a:sha256:abcd"));
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.of("a:x", "a:y"));
    }

    @Test
    void presentedKeyFromBearerOrXApiKey() {
        assertEquals(Optional.of("k1"), ApiKeys.presented("Bearer k1", null));
        assertEquals(Optional.of("k1"), ApiKeys.presented("bearer  k1 ", "k2"));
        assertEquals(Optional.of("k2"), ApiKeys.presented("Basic YTpi", "k2"));
        assertEquals(Optional.of("k2"), ApiKeys.presented(null, "k2"));
        assertEquals(Optional.empty(), ApiKeys.presented("Bearer ", " "));
        assertEquals(Optional.empty(), ApiKeys.presented(null, null));
    }

    @Test
    void gateIsOpenWhenOffAndForHealthAndMetrics() {
        ApiKeyGate off = ApiKeyGate.of(false, Optional.empty(), Optional.empty());
        assertInstanceOf(ApiKeyGate.Open.class, off.check("/v1/models", null, null));
        ApiKeyGate on = new ApiKeyGate(true, ApiKeys.of("alice:a1"));
        assertInstanceOf(ApiKeyGate.Open.class, on.check("/q/health/ready", null, null));
        assertInstanceOf(ApiKeyGate.Open.class, on.check("/q/metrics", null, null));
        assertInstanceOf(ApiKeyGate.Refused.class, on.check("/qx", null, null));
        assertInstanceOf(ApiKeyGate.Refused.class, on.check("/v1/models", null, null));
        assertInstanceOf(ApiKeyGate.Refused.class, on.check("/pcwmesh.v1.Generator/Ask", "Bearer a2", null));
        assertEquals(new ApiKeyGate.Accepted("alice"), on.check("/pcwmesh.v1.Generator/Ask", "Bearer a1", null));
        assertThrows(IllegalStateException.class, () -> new ApiKeyGate(true, ApiKeys.of()), "security on without keys must not start");
    }

    @Test
    void perKeyLimits() {
        KeyLimits limits = new KeyLimits(2);
        assertTrue(limits.tryAcquire("a"));
        assertTrue(limits.tryAcquire("a"));
        assertFalse(limits.tryAcquire("a"));
        assertTrue(limits.tryAcquire("b"));
        assertTrue(limits.tryAcquire(null), "no key, no per-key limit");
        limits.release("a");
        assertEquals(1, limits.inUse("a"));
        assertTrue(limits.tryAcquire("a"));
        KeyLimits none = new KeyLimits(0);
        for (int i = 0; i < 100; i++) assertTrue(none.tryAcquire("a"));
    }

    @Test
    void refusalsInTheCallersProtocol() {
        Unauthenticated grpc = Unauthenticated.of("/pcwmesh.v1.Generator/Ask", "application/grpc+proto", "no credentials");
        assertEquals(200, grpc.status());
        assertEquals("16", grpc.headers().get("grpc-status"));
        assertEquals("UNAUTHENTICATED%3A%20no%20credentials", grpc.headers().get("grpc-message"));
        Unauthenticated openai = Unauthenticated.of("/v1/chat/completions", "application/json", "say \"x\"");
        assertEquals(401, openai.status());
        assertTrue(openai.body().contains("\"code\":\"invalid_api_key\"") && openai.body().contains("say \\\"x\\\""), openai.body());
        assertEquals(401, Unauthenticated.of("/other", null, "r").status());
    }
}
