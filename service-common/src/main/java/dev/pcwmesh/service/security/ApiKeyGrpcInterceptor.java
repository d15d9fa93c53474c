package dev.pcwmesh.service.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * The API-key check on gRPC calls, from their metadata, whatever the HTTP layer did before: a call
 * without a valid key is closed with UNAUTHENTICATED (logged without its content); an accepted
 * call runs with the key's name in {@link #KEY_NAME}.
 */
@GlobalInterceptor
@ApplicationScoped
public class ApiKeyGrpcInterceptor implements ServerInterceptor {
    private static final Logger LOG = Logger.getLogger(ApiKeyGrpcInterceptor.class);
    private static final Metadata.Key<String> REASON = Metadata.Key.of("pcw-reason", Metadata.ASCII_STRING_MARSHALLER);

    /** The name of the API key of the current call; null when security is off. */
    public static final Context.Key<String> KEY_NAME = Context.key("pcw-api-key-name");

    private final ApiKeyGate gate;

    public ApiKeyGrpcInterceptor(ApiKeyAuthentication authentication) {
        this.gate = authentication.gate();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        return switch (gate.check("/" + method, headers.get(MeshChannels.AUTHORIZATION), headers.get(MeshChannels.X_API_KEY))) {
            case ApiKeyGate.Open o -> next.startCall(call, headers);
            case ApiKeyGate.Accepted a -> Contexts.interceptCall(Context.current().withValue(KEY_NAME, a.keyName()), call, headers, next);
            case ApiKeyGate.Refused f -> {
                LOG.warnf("refused gRPC %s from %s: %s", method, call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR), f.reason());
                Metadata trailers = new Metadata();
                trailers.put(REASON, "UNAUTHENTICATED");
                call.close(Status.UNAUTHENTICATED.withDescription("UNAUTHENTICATED: " + f.reason()), trailers);
                yield new ServerCall.Listener<>() { };
            }
        };
    }
}
