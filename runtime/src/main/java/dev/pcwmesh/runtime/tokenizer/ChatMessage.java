package dev.pcwmesh.runtime.tokenizer;

/** One turn of a conversation: a role ({@code system}, {@code user}, {@code assistant}, ...) and its text. */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || role.isBlank()) throw new IllegalArgumentException("a chat message needs a role");
        if (content == null) throw new IllegalArgumentException("a chat message needs content (may be empty, not null)");
    }
}
