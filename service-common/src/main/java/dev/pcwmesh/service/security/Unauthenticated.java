package dev.pcwmesh.service.security;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The refusal of a request without valid credentials, in the form its caller understands: a gRPC
 * call gets a trailers-only response with {@code grpc-status} 16 (UNAUTHENTICATED); the OpenAI
 * endpoint ({@code /v1/...}) a 401 with OpenAI's error object; anything else a plain 401. Every
 * form carries {@code WWW-Authenticate: Bearer}. The reason never repeats the key.
 */
public record Unauthenticated(int status, Map<String, String> headers, String body) {
    /** UNAUTHENTICATED's code in gRPC. */
    public static final int GRPC_UNAUTHENTICATED = 16;

    /** Whether a request with this Content-Type is a gRPC call. */
    public static boolean isGrpc(String contentType) {
        return contentType != null && contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/grpc");
    }

    /** The response to a request for {@code path} with {@code contentType} refused for {@code reason}. */
    public static Unauthenticated of(String path, String contentType, String reason) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("WWW-Authenticate", "Bearer");
        String message = "UNAUTHENTICATED: " + reason;
        if (isGrpc(contentType)) {
            headers.put("content-type", "application/grpc");
            headers.put("grpc-status", Integer.toString(GRPC_UNAUTHENTICATED));
            // grpc-message is percent-encoded (the gRPC HTTP/2 protocol); spaces stay readable.
            headers.put("grpc-message", URLEncoder.encode(message, StandardCharsets.UTF_8).replace("+", "%20"));
            headers.put("pcw-reason", "UNAUTHENTICATED");
            return new Unauthenticated(200, headers, "");
        }
        if (path != null && path.startsWith("/v1/")) {
            headers.put("content-type", "application/json");
            String json = "{\"error\":{\"message\":\"" + jsonEscape(message) + "\",\"type\":\"invalid_request_error\",\"param\":null,"
                    + "\"code\":\"invalid_api_key\"}}";
            return new Unauthenticated(401, headers, json);
        }
        headers.put("content-type", "text/plain; charset=utf-8");
        return new Unauthenticated(401, headers, message + "\n");
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }
}
