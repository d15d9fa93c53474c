package dev.pcwmesh.service;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A request a service refuses: a gRPC status code, a short machine-readable reason (such as
 * {@code EMPTY}, {@code WRONG_MODEL}, {@code UNKNOWN_DOCUMENT}, {@code BUSY}; each service's proto lists
 * its own) and a message for people. Over gRPC it becomes the status with {@code REASON: message} as
 * its description and the reason in the {@value #REASON_KEY_NAME} trailer; on Kafka, a dead-letter
 * record's headers or an answer record's error.
 */
public final class Rejected extends RuntimeException {
    public static final String REASON_KEY_NAME = "pcw-reason";
    public static final Metadata.Key<String> REASON_KEY = Metadata.Key.of(REASON_KEY_NAME, Metadata.ASCII_STRING_MARSHALLER);

    private final Status.Code code;
    private final String reason;

    public Rejected(Status.Code code, String reason, String message) {
        this(code, reason, message, null);
    }

    public Rejected(Status.Code code, String reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.code = code;
        this.reason = reason;
    }

    public static Rejected invalid(String reason, String message) {
        return new Rejected(Status.Code.INVALID_ARGUMENT, reason, message);
    }

    public Status.Code code() { return code; }

    public String reason() { return reason; }

    public StatusRuntimeException toStatus() {
        Metadata trailers = new Metadata();
        trailers.put(REASON_KEY, reason);
        return Status.fromCode(code).withDescription(getMessage()).withCause(getCause()).asRuntimeException(trailers);
    }
}
