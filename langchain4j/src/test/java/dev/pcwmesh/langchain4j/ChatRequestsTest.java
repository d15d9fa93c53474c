package dev.pcwmesh.langchain4j;

import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.pcwmesh.proto.v1.AnswerFigures;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a LangChain4j chat request becomes the mesh's AskRequest and an answer becomes a
 * ChatResponse, without a mesh: parameter merging as ChatModel.chat does it, the conversation's
 * turns, sampling, usage, finish reasons, and what is refused.
 */
class ChatRequestsTest {

    @Test
    void aConversationBecomesTurnsAndTheQuestionStaysEmpty() {
        ChatRequest request = ChatRequest.builder()
                .messages(SystemMessage.from("Answer from the document."), UserMessage.from("Who is A B married to?"),
                        AiMessage.from("A B is married to C D."), UserMessage.from(TextContent.from("When was C D"), TextContent.from("born?")))
                .parameters(PcwMeshChatRequestParameters.builder().documentIds("doc-1", "doc-2").build())
                .build();
        AskRequest ask = ChatRequests.toAskRequest(request, "r-1");
        assertEquals(List.of(turn("system", "Answer from the document."), turn("user", "Who is A B married to?"),
                turn("assistant", "A B is married to C D."), turn("user", "When was C D\nborn?")), ask.getMessagesList());
        assertEquals("", ask.getQuestion());
        assertEquals(List.of("doc-1", "doc-2"), ask.getDocumentIdsList());
        assertEquals("r-1", ask.getRequestId());
        assertTrue(!ask.hasStrategy() && ask.getQuestionFormat().isEmpty(), "unset: the generator's defaults");
    }

    /** What AiServices does: the model's defaults (documents) overridden by the request's plain LangChain4j parameters. */
    @Test
    void theModelsDefaultsMergeWithAPlainRequestAsChatModelChatMergesThem() {
        PcwMeshChatRequestParameters defaults;
        try (PcwMeshChatModel model = PcwMeshChatModel.builder()
                .generatorAddress("localhost:1").documentIds("doc-1").strategy(PcwMeshStrategy.select(4))
                .questionFormat("\nQ: %s\nA:").temperature(0.7).maxOutputTokens(32).seed(7L).build()) {
            defaults = model.defaultRequestParameters();
        }
        ChatRequestParameters fromAiServices = ChatRequestParameters.builder().temperature(0.2).stopSequences("\n").build();

        ChatRequestParameters merged = defaults.overrideWith(fromAiServices);
        AskRequest ask = ChatRequests.toAskRequest(ChatRequest.builder().messages(UserMessage.from("q")).parameters(merged).build(), "r");

        assertEquals(List.of("doc-1"), ask.getDocumentIdsList());
        assertEquals("select", ask.getStrategy().getName());
        assertEquals(4, ask.getStrategy().getTopK());
        assertEquals("\nQ: %s\nA:", ask.getQuestionFormat());
        assertEquals(0.2f, ask.getSampling().getTemperature(), "the request's value wins");
        assertEquals(32, ask.getSampling().getMaxTokens(), "the default stays where the request has none");
        assertEquals(7, ask.getSampling().getSeed());
        assertEquals(List.of("\n"), ask.getSampling().getStopList());

        // Per request mesh parameters (an AiServices method argument) are defaulted by the model's the same way.
        ChatRequestParameters perRequest = PcwMeshChatRequestParameters.builder().documentIds("doc-2").topK(5).topP(0.9).build();
        AskRequest other = ChatRequests.toAskRequest(ChatRequest.builder().messages(UserMessage.from("q"))
                .parameters(defaults.overrideWith(perRequest)).build(), "r");
        assertEquals(List.of("doc-2"), other.getDocumentIdsList());
        assertEquals(5, other.getSampling().getTopK());
        assertEquals(0.9f, other.getSampling().getTopP(), 1e-6);
        assertEquals(0.7f, other.getSampling().getTemperature(), 1e-6);
        assertEquals("select", other.getStrategy().getName());
    }

    @Test
    void aBuildersOwnValuesTakePrecedenceOverItsDefaultRequestParameters() {
        PcwMeshChatRequestParameters p;
        try (PcwMeshStreamingChatModel model = PcwMeshStreamingChatModel.builder().generatorAddress("localhost:1")
                .defaultRequestParameters(PcwMeshChatRequestParameters.builder().documentIds("a").maxOutputTokens(8).temperature(0.5).build())
                .documentIds("b").maxOutputTokens(16).build()) {
            p = model.defaultRequestParameters();
        }
        assertEquals(List.of("b"), p.documentIds());
        assertEquals(16, p.maxOutputTokens());
        assertEquals(0.5, p.temperature());
    }

    @Test
    void usageAndFinishReasonComeFromTheFigures() {
        AnswerFigures figures = AnswerFigures.newBuilder().setContextTokens(1500).setTokensIn(12).setTokensOut(9)
                .setStopReason("end_of_generation").setWindowsUsed(12).build();
        ChatResponse response = ChatRequests.toChatResponse(" The answer.\n", figures, "r-9");
        assertEquals(" The answer.\n", response.aiMessage().text());
        assertEquals(1512, response.tokenUsage().inputTokenCount());
        assertEquals(9, response.tokenUsage().outputTokenCount());
        assertEquals(1521, response.tokenUsage().totalTokenCount());
        assertEquals(FinishReason.STOP, response.finishReason());
        assertEquals("r-9", response.id());
        assertEquals(figures, assertInstanceOf(PcwMeshChatResponseMetadata.class, response.metadata()).figures());

        assertEquals(FinishReason.LENGTH, ChatRequests.finishReason("max_tokens"));
        assertEquals(FinishReason.STOP, ChatRequests.finishReason("stop_string"));
        assertEquals(FinishReason.OTHER, ChatRequests.finishReason("cancelled"));
    }

    @Test
    void whatTheMeshCannotDoIsRefusedBeforeAnythingIsSent() {
        ChatRequestParameters tools = ChatRequestParameters.builder()
                .toolSpecifications(ToolSpecification.builder().name("weather").description("the weather").build()).build();
        ChatRequestParameters json = ChatRequestParameters.builder().responseFormat(ResponseFormat.JSON).build();
        ChatRequestParameters modelName = ChatRequestParameters.builder().modelName("gpt-4o").build();
        ChatRequestParameters penalty = ChatRequestParameters.builder().frequencyPenalty(0.5).build();
        for (ChatRequestParameters p : List.of(tools, json, modelName, penalty)) {
            ChatRequest r = ChatRequest.builder().messages(UserMessage.from("q")).parameters(p).build();
            assertThrows(UnsupportedFeatureException.class, () -> ChatRequests.toAskRequest(r, "r"), p.toString());
        }
        ChatRequest image = ChatRequest.builder().messages(UserMessage.from(TextContent.from("What is this?"),
                ImageContent.from("https://example.invalid/a.png"))).build();
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> ChatRequests.toAskRequest(image, "r"));
        assertTrue(e.getMessage().contains("image"), e.getMessage());
        ChatRequest toolResult = ChatRequest.builder().messages(UserMessage.from("q"),
                ToolExecutionResultMessage.from("id", "weather", "sunny")).build();
        assertThrows(UnsupportedFeatureException.class, () -> ChatRequests.toAskRequest(toolResult, "r"));
    }

    /** Streamed pieces add up to the stripped whole: leading whitespace dropped, trailing held back until text follows. */
    @Test
    void answerTextStripsTheEdgesAndReleasesTheRestAsItComes() {
        AnswerText text = new AnswerText();
        List<String> released = new java.util.ArrayList<>();
        for (String piece : List.of(" ", " The", " coach ", "\n", "departs", " at 10", ":42.", "\n", " ")) released.add(text.add(piece));
        assertEquals(List.of("", "The", " coach", "", " \ndeparts", " at 10", ":42.", "", ""), released);
        assertEquals("The coach \ndeparts at 10:42.", text.text());
        assertEquals(" \t The coach \ndeparts at 10:42.\n ".strip(), text.text());
        AnswerText blank = new AnswerText();
        assertEquals("", blank.add(" \n "));
        assertEquals("", blank.text());
    }

    private static ChatTurn turn(String role, String content) {
        return ChatTurn.newBuilder().setRole(role).setContent(content).build();
    }
}
