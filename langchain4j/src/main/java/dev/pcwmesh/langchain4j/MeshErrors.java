package dev.pcwmesh.langchain4j;

import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import io.grpc.Status;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The mesh's gRPC errors as LangChain4j's exception types, so a chain handles them as it handles
 * any provider's: the HTTP status each type stands for in LangChain4j's own mapping is the one the
 * gRPC code corresponds to. The message is the service's description, which starts with the short
 * reason ({@code NOT_FOUND: unknown document ...}); the cause keeps the gRPC exception.
 *
 * <p>NOT_FOUND becomes {@link InvalidRequestException}, not {@code ModelNotFoundException}: from
 * the mesh it means an unknown document, a parameter of the request, while the model is there
 * (a caller catching {@code ModelNotFoundException} would look for a misconfigured model name).
 */
final class MeshErrors {
    private MeshErrors() {}

    /** The LangChain4j exception for a failed call; anything that is not a gRPC status is wrapped as is. */
    static RuntimeException map(Throwable t) {
        if (t instanceof LangChain4jException l) return l;
        Status status = Status.fromThrowable(t);
        if (status.getCode() == Status.Code.UNKNOWN && status.getCause() == t) {
            // Not a gRPC failure at all (Status.fromThrowable found no status in the chain).
            return t instanceof RuntimeException r ? r : new LangChain4jException(t);
        }
        String message = status.getCode() + ": " + (status.getDescription() == null ? "(no description)" : status.getDescription());
        return switch (status.getCode()) {
            case INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS -> new InvalidRequestException(message, t);
            case RESOURCE_EXHAUSTED -> new RateLimitException(message, t);
            case UNAUTHENTICATED, PERMISSION_DENIED -> new AuthenticationException(message, t);
            case DEADLINE_EXCEEDED -> new TimeoutException(message, t);
            case UNAVAILABLE, INTERNAL, UNKNOWN, DATA_LOSS, ABORTED -> new InternalServerException(message, t);
            case UNIMPLEMENTED -> unsupported(message, t);
            case CANCELLED, OK -> new LangChain4jException(message, t);
        };
    }

    /** A service that lacks an RPC (an older generator without Rank, say) does not support the feature. */
    private static UnsupportedFeatureException unsupported(String message, Throwable cause) {
        UnsupportedFeatureException e = new UnsupportedFeatureException(message);
        e.initCause(cause);
        return e;
    }

    /**
     * Runs a call, mapping its failure; one refused as RESOURCE_EXHAUSTED (the generator's BUSY:
     * all its ask slots taken) or UNAVAILABLE (a service restarting) is tried again up to
     * {@code maxRetries} times, after 200 ms, 400 ms, 800 ms ... The mesh refuses at once rather
     * than queueing, so a short back-off is how a caller waits for a slot. A deadline is not
     * retried: the call already waited as long as it was allowed to.
     */
    static <T> T withRetries(Supplier<T> call, int maxRetries) {
        Duration backOff = Duration.ofMillis(200);
        for (int attempt = 0; ; attempt++) {
            try {
                return call.get();
            } catch (RuntimeException e) {
                Status.Code code = Status.fromThrowable(e).getCode();
                boolean retriable = code == Status.Code.RESOURCE_EXHAUSTED || code == Status.Code.UNAVAILABLE;
                if (!retriable || attempt >= maxRetries) throw map(e);
            }
            try {
                Thread.sleep(backOff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LangChain4jException("interrupted while waiting to retry", e);
            }
            backOff = backOff.multipliedBy(2);
        }
    }
}
