package dev.pcwmesh.generator.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/**
 * One server-sent event of a streamed answer ({@code object}: {@code chat.completion.chunk}). The
 * first carries {@code delta.role}, the next ones {@code delta.content} pieces, the last choice
 * chunk an empty delta, the {@code finish_reason} and {@code pcw_figures}; with
 * {@code stream_options.include_usage}, one more chunk has no choices and the {@code usage}.
 * {@code finish_reason} is written as null until then, as OpenAI writes it.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ChatCompletionChunk(String id, String object, long created, String model, String systemFingerprint,
                                  List<Choice> choices,
                                  @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage,
                                  @JsonInclude(JsonInclude.Include.NON_NULL) PcwFigures pcwFigures) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Choice(int index, Delta delta, String finishReason) {}

    /** What this chunk adds to the message; absent fields are left out ({@code {}} in the last chunk). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content) {}
}
