package dev.pcwmesh.generator.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.pcwmesh.proto.v1.AnswerFigures;

/**
 * Tokens of an answer, as OpenAI counts them: the prompt is everything the answer was conditioned
 * on (the shared prefix and the windows the plan placed, then the rendered conversation), the
 * completion what was generated.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Usage(int promptTokens, int completionTokens, int totalTokens) {

    public static Usage of(AnswerFigures f) {
        int prompt = f.getContextTokens() + f.getTokensIn();
        return new Usage(prompt, f.getTokensOut(), prompt + f.getTokensOut());
    }
}
