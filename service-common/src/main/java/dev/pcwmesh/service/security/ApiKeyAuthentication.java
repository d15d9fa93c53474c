package dev.pcwmesh.service.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * API-key authentication (and, under mutual TLS, the client certificate check) of every HTTP request
 * and gRPC call on this service's port (gRPC is served
 * by the same Vert.x server, so its calls pass here too), by Quarkus security: the key from
 * {@code Authorization: Bearer} or {@code x-api-key} goes to {@link ApiKeyIdentityProvider}, which
 * names it. Open when {@code pcw.security.enabled} is false and for {@code /q/...} (health,
 * metrics). A refusal is logged with the method, path and peer only, and answered in the caller's
 * protocol ({@link Unauthenticated}): gRPC UNAUTHENTICATED, HTTP 401 (OpenAI's error shape on
 * {@code /v1/...}).
 */
@ApplicationScoped
public class ApiKeyAuthentication implements HttpAuthenticationMechanism {
    private static final Logger LOG = Logger.getLogger(ApiKeyAuthentication.class);
    private static final String REFUSAL = "pcw.security.refusal";

    private final ApiKeyGate gate;
    private final boolean mtls;

    public ApiKeyAuthentication(@ConfigProperty(name = "pcw.security.enabled", defaultValue = "false") boolean enabled,
                                @ConfigProperty(name = "pcw.security.mtls", defaultValue = "false") boolean mtls,
                                @ConfigProperty(name = "pcw.security.api-keys-file") Optional<Path> keysFile,
                                @ConfigProperty(name = "pcw.security.api-keys") Optional<String> keys) {
        this.gate = ApiKeyGate.of(enabled, keysFile, keys);
        this.mtls = mtls;
        if (enabled) LOG.infof("API keys required on every endpoint but /q/*");
        if (mtls) LOG.infof("client certificates required on every endpoint but /q/*");
    }

    public ApiKeyGate gate() { return gate; }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext ctx, IdentityProviderManager identities) {
        HttpServerRequest r = ctx.request();
        String path = ctx.normalizedPath();
        if (ApiKeyGate.openPath(path)) return Uni.createFrom().optional(Optional.empty());
        if (mtls && !hasClientCertificate(r)) return refuse(ctx, "a client certificate of the mesh's CA is required (mutual TLS)");
        if (!gate.enabled()) return Uni.createFrom().optional(Optional.empty());
        Optional<String> key = ApiKeys.presented(r.getHeader("authorization"), r.getHeader("x-api-key"));
        if (key.isEmpty()) {
            return refuse(ctx, "no credentials: send Authorization: Bearer <key> or x-api-key: <key>");
        }
        return identities.authenticate(HttpSecurityUtils.setRoutingContextAttribute(new ApiKeyIdentityProvider.Request(key.get()), ctx))
                .onFailure().recoverWithUni(e -> refuse(ctx, "the API key is not valid"));
    }

    /** Whether the TLS peer presented a certificate the mesh's CA verifies (an unverified one throws, and counts as none). */
    private static boolean hasClientCertificate(HttpServerRequest r) {
        if (!r.isSSL() || r.sslSession() == null) return false;
        try {
            return r.sslSession().getPeerCertificates().length > 0;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return false;
        }
    }

    private Uni<SecurityIdentity> refuse(RoutingContext ctx, String reason) {
        ctx.put(REFUSAL, reason);
        LOG.warnf("refused %s %s from %s: %s", ctx.request().method(), ctx.normalizedPath(), ctx.request().remoteAddress(), reason);
        return Uni.createFrom().failure(new AuthenticationFailedException(reason));
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext ctx) {
        return Uni.createFrom().item(new ChallengeData(401, "WWW-Authenticate", "Bearer"));
    }

    /** The refusal in the caller's protocol (gRPC trailers-only, OpenAI JSON, or plain 401). */
    @Override
    public Uni<Boolean> sendChallenge(RoutingContext ctx) {
        String reason = ctx.get(REFUSAL);
        Unauthenticated u = Unauthenticated.of(ctx.normalizedPath(), ctx.request().getHeader("content-type"),
                reason == null ? "credentials required" : reason);
        HttpServerResponse response = ctx.response();
        if (!response.ended() && !response.headWritten()) {
            response.setStatusCode(u.status());
            u.headers().forEach(response::putHeader);
            if (u.body().isEmpty()) response.end();
            else response.end(u.body());
        }
        return Uni.createFrom().item(true);
    }

    /**
     * Before every other mechanism, Quarkus' own mutual-TLS one included (present because
     * {@code quarkus.http.ssl.client-auth=request}): a client certificate alone must not stand in for
     * the API key.
     */
    @Override
    public int getPriority() {
        return DEFAULT_PRIORITY + 10_000;
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(ApiKeyIdentityProvider.Request.class);
    }
}
