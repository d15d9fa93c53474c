package dev.pcwmesh.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import dev.pcwmesh.proto.v1.Sampling;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * LangChain4j's chat request to the mesh's {@code AskRequest}, and the answer back to a
 * {@code ChatResponse}; shared by the blocking and the streaming model. What the mesh cannot do
 * is refused here with {@link UnsupportedFeatureException} before anything is sent, as
 * LangChain4j's own providers refuse it.
 */
final class ChatRequests {
    private ChatRequests() {}

    /** A fresh request id: the answer's metadata id, and what the generator's logs name the ask by. */
    static String newRequestId() {
        return "lc4j-" + UUID.randomUUID();
    }

    /**
     * The ask for a chat request whose parameters are already merged with the model's defaults.
     * The conversation goes into {@code messages} (roles system, user, assistant) and
     * {@code question} stays empty: the generator renders the turns, with the model's chat
     * template when it has one, else each user turn through the question format.
     */
    static AskRequest toAskRequest(ChatRequest request, String requestId) {
        PcwMeshChatRequestParameters p = PcwMeshChatRequestParameters.from(request.parameters());
        refuseUnsupported(p);
        AskRequest.Builder ask = AskRequest.newBuilder()
                .addAllDocumentIds(p.documentIds())
                .setSampling(sampling(p))
                .setRequestId(requestId);
        if (p.strategy() != null) ask.setStrategy(p.strategy().toSpec());
        if (p.questionFormat() != null) ask.setQuestionFormat(p.questionFormat());
        for (ChatMessage m : request.messages()) ask.addMessages(turn(m));
        return ask.build();
    }

    private static void refuseUnsupported(PcwMeshChatRequestParameters p) {
        if (!p.toolSpecifications().isEmpty()) {
            throw new UnsupportedFeatureException("tools are not supported by PCW Mesh: the generator answers with text only");
        }
        if (p.toolChoice() == ToolChoice.REQUIRED) {
            throw new UnsupportedFeatureException("ToolChoice.REQUIRED is not supported by PCW Mesh (it has no tools)");
        }
        if (p.responseFormat() != null && p.responseFormat().type() == ResponseFormatType.JSON) {
            throw new UnsupportedFeatureException("JSON response format is not supported by PCW Mesh");
        }
        if (p.modelName() != null) {
            throw new UnsupportedFeatureException("'modelName' is not supported by PCW Mesh: the generator answers with the model its services loaded");
        }
        if (p.frequencyPenalty() != null || p.presencePenalty() != null) {
            throw new UnsupportedFeatureException("'frequencyPenalty' and 'presencePenalty' are not supported by PCW Mesh (use repetitionPenalty)");
        }
    }

    private static Sampling sampling(PcwMeshChatRequestParameters p) {
        // Unset values stay 0, which the generator reads as its default (temperature 0: greedy).
        Sampling.Builder s = Sampling.newBuilder();
        if (p.temperature() != null) s.setTemperature(p.temperature().floatValue());
        if (p.topP() != null) s.setTopP(p.topP().floatValue());
        if (p.topK() != null) s.setTopK(p.topK());
        if (p.minP() != null) s.setMinP(p.minP().floatValue());
        if (p.repetitionPenalty() != null) s.setRepetitionPenalty(p.repetitionPenalty().floatValue());
        if (p.seed() != null) s.setSeed(p.seed());
        if (p.maxOutputTokens() != null) s.setMaxTokens(p.maxOutputTokens());
        s.addAllStop(p.stopSequences());
        return s.build();
    }

    private static ChatTurn turn(ChatMessage message) {
        return switch (message) {
            case SystemMessage m -> ChatTurn.newBuilder().setRole("system").setContent(m.text()).build();
            case UserMessage m -> ChatTurn.newBuilder().setRole("user").setContent(userText(m)).build();
            case AiMessage m -> {
                if (m.hasToolExecutionRequests()) {
                    throw new UnsupportedFeatureException("tool execution requests are not supported by PCW Mesh");
                }
                yield ChatTurn.newBuilder().setRole("assistant").setContent(m.text() == null ? "" : m.text()).build();
            }
            default -> throw new UnsupportedFeatureException(
                    "messages of type " + message.type() + " are not supported by PCW Mesh (only system, user and AI messages)");
        };
    }

    /** A user message's text; its parts are joined by newlines. Images, audio, video and PDF are refused. */
    private static String userText(UserMessage m) {
        List<String> parts = new ArrayList<>();
        for (Content c : m.contents()) {
            if (!(c instanceof TextContent t)) {
                throw new UnsupportedFeatureException("content of type " + c.type().toString().toLowerCase(Locale.ROOT)
                        + " is not supported by PCW Mesh (text only; ingest a document to ask about it)");
            }
            parts.add(t.text());
        }
        return String.join("\n", parts);
    }

    /** The whole answer as LangChain4j reports it. */
    static ChatResponse toChatResponse(String text, AnswerFigures figures, String requestId) {
        return ChatResponse.builder()
                .aiMessage(AiMessage.from(text))
                .metadata(PcwMeshChatResponseMetadata.builder()
                        .id(requestId)
                        .tokenUsage(tokenUsage(figures))
                        .finishReason(finishReason(figures.getStopReason()))
                        .figures(figures)
                        .build())
                .build();
    }

    /**
     * Input tokens are the whole prompt the answer was conditioned on: the shared prefix and the
     * windows the plan placed, plus the rendered conversation; output tokens are the answer's.
     */
    static TokenUsage tokenUsage(AnswerFigures f) {
        return new TokenUsage(f.getContextTokens() + f.getTokensIn(), f.getTokensOut());
    }

    /** The generator's stop reason as LangChain4j's: the token limit is LENGTH, an end token or a stop string STOP. */
    static FinishReason finishReason(String stopReason) {
        return switch (stopReason) {
            case "max_tokens" -> FinishReason.LENGTH;
            case "end_of_generation", "stop_string" -> FinishReason.STOP;
            default -> FinishReason.OTHER;
        };
    }
}
