package dev.pcwmesh.service.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.BaseAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/** Names a presented API key: the identity's principal is the key's name from the keys file. */
@ApplicationScoped
public class ApiKeyIdentityProvider implements IdentityProvider<ApiKeyIdentityProvider.Request> {
    /** The role every authenticated key has. */
    public static final String ROLE = "api-client";

    /** A key as a request presented it. */
    public static final class Request extends BaseAuthenticationRequest {
        private final String key;

        public Request(String key) { this.key = key; }

        String key() { return key; }
    }

    private final ApiKeyAuthentication authentication;

    public ApiKeyIdentityProvider(ApiKeyAuthentication authentication) {
        this.authentication = authentication;
    }

    @Override
    public Class<Request> getRequestType() { return Request.class; }

    @Override
    public Uni<SecurityIdentity> authenticate(Request request, AuthenticationRequestContext context) {
        return authentication.gate().identify(request.key())
                .<Uni<SecurityIdentity>>map(name -> Uni.createFrom().item(QuarkusSecurityIdentity.builder()
                        .setPrincipal(new QuarkusPrincipal(name)).addRole(ROLE).build()))
                .orElseGet(() -> Uni.createFrom().failure(new AuthenticationFailedException("unknown API key")));
    }
}
