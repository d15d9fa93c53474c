package dev.pcwmesh.generator.openai;

import dev.pcwmesh.service.Rejected;
import jakarta.ws.rs.core.MediaType;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * A request the OpenAI-compatible endpoint refuses, with the HTTP status and the fields of OpenAI's
 * error object: {@code message}, {@code type} ({@code invalid_request_error} for 400, 404 and 413,
 * {@code rate_limit_error} for 429, {@code server_error} for the rest), {@code param} (the request
 * field at fault, or null) and {@code code} (the mesh's reason, such as {@code UNKNOWN_DOCUMENT}).
 */
public final class OpenAiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public OpenAiException(int status, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type(status);
        this.param = param;
        this.code = code;
    }

    /** 400: a malformed request or a bad field. */
    public static OpenAiException invalid(String param, String code, String message) {
        return new OpenAiException(400, param, code, message);
    }

    /**
     * A refusal of the mesh ({@link Rejected}), by its gRPC code: INVALID_ARGUMENT, FAILED_PRECONDITION
     * and OUT_OF_RANGE 400, NOT_FOUND 404, RESOURCE_EXHAUSTED 429, DEADLINE_EXCEEDED 504 (the mesh
     * waited for the documents' windows or segments), UNAVAILABLE 503, anything else 500. Its reason
     * is the code; the request field it is about, where the reason says, is the param.
     */
    public static OpenAiException of(Rejected r) {
        int status = switch (r.code()) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
            case NOT_FOUND -> 404;
            case RESOURCE_EXHAUSTED -> 429;
            case DEADLINE_EXCEEDED -> 504;
            case UNAVAILABLE -> 503;
            default -> 500;
        };
        String param = switch (r.reason()) {
            case "UNKNOWN_DOCUMENT", "TOO_MANY_DOCUMENTS", "MODEL_MISMATCH", "PREFIX_MISMATCH", "WINDOWS_MISSING", "NOT_ENCODED" -> "pcw_documents";
            case "BAD_STRATEGY", "BAD_ROPE", "STRATEGY_WITHOUT_DOCUMENTS" -> "pcw_strategy";
            case "BAD_QUESTION_FORMAT" -> "pcw_question_format";
            case "BAD_MESSAGES", "QUESTION_TOO_LONG" -> "messages";
            default -> null;
        };
        // Rejected's message is "REASON: message"; the reason travels as the code.
        String message = r.getMessage().startsWith(r.reason() + ": ") ? r.getMessage().substring(r.reason().length() + 2) : r.getMessage();
        return new OpenAiException(status, param, r.reason(), message);
    }

    private static String type(int status) {
        if (status == 429) return "rate_limit_error";
        return status < 500 ? "invalid_request_error" : "server_error";
    }

    public int status() { return status; }

    /** The response body: {@code {"error": {"message", "type", "param", "code"}}}. */
    public ErrorResponse body() {
        return new ErrorResponse(new ErrorResponse.Error(getMessage(), type, param, code));
    }

    /** The HTTP response: the status and the body, as JSON whatever the request accepts (a streaming client asks for text/event-stream). */
    public RestResponse<ErrorResponse> toResponse() {
        return RestResponse.ResponseBuilder.<ErrorResponse>create(status).entity(body()).type(MediaType.APPLICATION_JSON_TYPE).build();
    }

    /** OpenAI's error shape. Every field is written, null or not, as OpenAI writes it. */
    public record ErrorResponse(Error error) {
        public record Error(String message, String type, String param, String code) {}
    }
}
