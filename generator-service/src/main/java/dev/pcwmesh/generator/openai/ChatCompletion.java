package dev.pcwmesh.generator.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/**
 * The answer of {@code POST /v1/chat/completions} without {@code stream}: {@code object} is
 * {@code chat.completion}, one choice with the assistant's message, the usage, and the mesh's
 * figures as the extension {@code pcw_figures}.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ChatCompletion(String id, String object, long created, String model, String systemFingerprint,
                             List<Choice> choices, Usage usage, PcwFigures pcwFigures) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Choice(int index, Message message, String finishReason) {}

    public record Message(String role, String content) {}
}
