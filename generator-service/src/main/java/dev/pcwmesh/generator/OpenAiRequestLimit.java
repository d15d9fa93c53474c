package dev.pcwmesh.generator;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses a request to the OpenAI-compatible endpoint whose Content-Length is larger than
 * {@code pcw.limits.max-request-bytes} (413, in OpenAI's error shape) before its body is read, so
 * that such a body is never buffered. A body sent without a length is measured in
 * {@link OpenAiResource#chatCompletions} before it is parsed.
 */
public class OpenAiRequestLimit {
    private final GeneratorConfig config;

    public OpenAiRequestLimit(GeneratorConfig config) {
        this.config = config;
    }

    @ServerRequestFilter(preMatching = true)
    public RestResponse<?> limitBody(ContainerRequestContext request) {
        String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        if (length == null || !request.getUriInfo().getPath().startsWith("/v1/")) return null;
        int max = config.limits().maxRequestBytes();
        long declared;
        try {
            declared = Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return null;    // Vert.x refuses a malformed Content-Length before we are called
        }
        if (declared <= max) return null;
        return OpenAiResource.tooLarge(declared, max).toResponse();
    }
}
