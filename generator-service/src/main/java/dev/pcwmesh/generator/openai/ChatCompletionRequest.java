package dev.pcwmesh.generator.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pcwmesh.proto.v1.AskRequest;
import dev.pcwmesh.proto.v1.ChatTurn;
import dev.pcwmesh.proto.v1.Sampling;
import dev.pcwmesh.proto.v1.StrategySpec;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request to {@code POST /v1/chat/completions}, read from its JSON and checked field by field,
 * and its mapping onto the mesh's {@link AskRequest}. A field of the wrong type or out of range is
 * an {@link OpenAiException} (400) naming it in {@code param}.
 *
 * <p>OpenAI fields that change nothing here ({@code user}, {@code frequency_penalty},
 * {@code presence_penalty}, {@code logit_bias}, {@code metadata}, {@code store} ...) are ignored, as
 * OpenAI-compatible servers do, so that clients send what they always send. Fields that ask for
 * something the mesh cannot do are refused rather than ignored, because ignoring them would
 * answer a different question: tools, several choices ({@code n} above 1), log probabilities, a
 * JSON response format, and message content other than text.
 *
 * <p>The extension fields choose the documents: {@code pcw_documents} (document ids),
 * {@code pcw_strategy} (a strategy name, or an object mirroring {@code StrategySpec} in snake case)
 * and {@code pcw_question_format}. Without documents the conversation is a plain chat with the model.
 *
 * @param model         the model the client named (any name: the generator serves one model), or null
 * @param messages      the conversation, {@code developer} turns as {@code system}
 * @param maxTokens     {@code max_completion_tokens}, else {@code max_tokens}, or null for the generator's limit
 * @param temperature   null for greedy decoding (the mesh's default; OpenAI's is 1)
 * @param stop          strings generation stops before (may be empty)
 * @param includeUsage  {@code stream_options.include_usage}: a last chunk with the usage
 */
public record ChatCompletionRequest(
        String model,
        List<ChatTurn> messages,
        Integer maxTokens,
        Double temperature,
        Double topP,
        Long seed,
        List<String> stop,
        boolean stream,
        boolean includeUsage,
        List<String> documentIds,
        StrategySpec strategy,
        String questionFormat) {

    /** Roles a message may have, and what the mesh calls them ({@code developer} is OpenAI's newer name for system). */
    private static final Map<String, String> ROLES = Map.of("system", "system", "developer", "system", "user", "user", "assistant", "assistant");

    private static final Set<String> STRATEGY_FIELDS = Set.of("name", "top_k", "block_size", "ape_temperature", "ape_scale",
            "sinks", "local", "chunk", "rope", "rope_scale", "rerope_window");

    /** Reads a request from its JSON body. */
    public static ChatCompletionRequest from(JsonNode body) {
        if (body == null || !body.isObject()) throw OpenAiException.invalid(null, "INVALID_JSON", "the request body must be a JSON object");
        refuseUnsupported(body);
        boolean stream = bool(body, "stream");
        JsonNode streamOptions = field(body, "stream_options");
        if (streamOptions != null && !streamOptions.isObject()) throw wrongType("stream_options", "an object");
        Integer maxCompletionTokens = positiveInt(body, "max_completion_tokens");
        return new ChatCompletionRequest(
                text(body, "model"),
                messages(body),
                maxCompletionTokens != null ? maxCompletionTokens : positiveInt(body, "max_tokens"),
                number(body, "temperature", 0, 2),
                number(body, "top_p", 0, 1),
                integer(body, "seed"),
                stop(body),
                stream,
                streamOptions != null && bool(streamOptions, "include_usage", "stream_options.include_usage"),
                documents(body),
                strategy(body),
                text(body, "pcw_question_format"));
    }

    /** The mesh's question: the conversation over the documents, with its sampling. */
    public AskRequest toAskRequest(String requestId) {
        AskRequest.Builder ask = AskRequest.newBuilder()
                .setRequestId(requestId)
                .addAllMessages(messages)
                .addAllDocumentIds(documentIds);
        if (strategy != null) ask.setStrategy(strategy);
        if (questionFormat != null) ask.setQuestionFormat(questionFormat);
        Sampling.Builder sampling = Sampling.newBuilder().addAllStop(stop);
        if (maxTokens != null) sampling.setMaxTokens(maxTokens);
        if (temperature != null) sampling.setTemperature(temperature.floatValue());
        if (topP != null) sampling.setTopP(topP.floatValue());
        if (seed != null) sampling.setSeed(seed);
        return ask.setSampling(sampling).build();
    }

    // ------------------------------------------------------------------ the fields

    private static void refuseUnsupported(JsonNode body) {
        JsonNode n = field(body, "n");
        if (n != null && !(n.isIntegralNumber() && n.asLong() == 1)) {
            throw OpenAiException.invalid("n", "UNSUPPORTED", "only one choice per request: n must be 1, got " + n);
        }
        JsonNode tools = field(body, "tools");
        if (tools != null && !(tools.isArray() && tools.isEmpty())) {
            throw OpenAiException.invalid("tools", "UNSUPPORTED", "tool calls are not supported");
        }
        JsonNode functions = field(body, "functions");
        if (functions != null && !(functions.isArray() && functions.isEmpty())) {
            throw OpenAiException.invalid("functions", "UNSUPPORTED", "function calls are not supported");
        }
        JsonNode logprobs = field(body, "logprobs");
        if (logprobs != null && !(logprobs.isBoolean() && !logprobs.asBoolean())) {
            throw OpenAiException.invalid("logprobs", "UNSUPPORTED", "log probabilities are not returned");
        }
        JsonNode format = field(body, "response_format");
        if (format != null && !"text".equals(format.path("type").asText(null))) {
            throw OpenAiException.invalid("response_format", "UNSUPPORTED", "only the text response format is supported");
        }
    }

    private static List<ChatTurn> messages(JsonNode body) {
        JsonNode messages = field(body, "messages");
        if (messages == null) throw OpenAiException.invalid("messages", "MISSING_FIELD", "messages is required");
        if (!messages.isArray()) throw wrongType("messages", "an array");
        if (messages.isEmpty()) throw OpenAiException.invalid("messages", "BAD_FIELD", "messages must not be empty");
        List<ChatTurn> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw wrongType(at, "an object");
            JsonNode role = field(m, "role");
            if (role == null) throw OpenAiException.invalid(at + ".role", "MISSING_FIELD", at + ".role is required");
            String mapped = role.isTextual() ? ROLES.get(role.asText()) : null;
            if (mapped == null) {
                throw OpenAiException.invalid(at + ".role", role.isTextual() && (role.asText().equals("tool") || role.asText().equals("function"))
                        ? "UNSUPPORTED" : "BAD_FIELD", "role must be system, developer, user or assistant, got " + role);
            }
            JsonNode toolCalls = field(m, "tool_calls");
            if (toolCalls != null && !(toolCalls.isArray() && toolCalls.isEmpty())) {
                throw OpenAiException.invalid(at + ".tool_calls", "UNSUPPORTED", "tool calls are not supported");
            }
            turns.add(ChatTurn.newBuilder().setRole(mapped).setContent(content(m, at)).build());
        }
        return turns;
    }

    /** A message's text: a string, or an array of text parts joined as they are. */
    private static String content(JsonNode message, String at) {
        JsonNode content = field(message, "content");
        if (content == null) throw OpenAiException.invalid(at + ".content", "MISSING_FIELD", at + ".content is required");
        if (content.isTextual()) return content.asText();
        if (!content.isArray()) throw wrongType(at + ".content", "a string or an array of text parts");
        StringBuilder text = new StringBuilder();
        for (int j = 0; j < content.size(); j++) {
            String partAt = at + ".content[" + j + "]";
            JsonNode part = content.get(j);
            if (!part.isObject()) throw wrongType(partAt, "an object");
            JsonNode type = field(part, "type");
            if (type == null || !type.isTextual()) throw OpenAiException.invalid(partAt + ".type", "MISSING_FIELD", partAt + ".type is required");
            if (!type.asText().equals("text")) {
                throw OpenAiException.invalid(partAt + ".type", "UNSUPPORTED", "only text content parts are supported, got " + type);
            }
            String partText = text(part, "text", partAt + ".text");
            if (partText == null) throw OpenAiException.invalid(partAt + ".text", "MISSING_FIELD", partAt + ".text is required");
            text.append(partText);
        }
        return text.toString();
    }

    private static List<String> stop(JsonNode body) {
        JsonNode stop = field(body, "stop");
        if (stop == null) return List.of();
        if (!stop.isTextual() && !stop.isArray()) throw wrongType("stop", "a string or an array of strings");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < (stop.isArray() ? stop.size() : 1); i++) {
            JsonNode s = stop.isArray() ? stop.get(i) : stop;
            String param = stop.isArray() ? "stop[" + i + "]" : "stop";
            if (!s.isTextual() || s.asText().isEmpty()) throw wrongType(param, "a non-empty string");
            out.add(s.asText());
        }
        return out;
    }

    private static List<String> documents(JsonNode body) {
        JsonNode docs = field(body, "pcw_documents");
        if (docs == null) return List.of();
        if (!docs.isArray()) throw wrongType("pcw_documents", "an array of document ids");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            JsonNode id = docs.get(i);
            if (!id.isTextual() || id.asText().isBlank()) throw wrongType("pcw_documents[" + i + "]", "a document id");
            ids.add(id.asText());
        }
        return ids;
    }

    /** {@code pcw_strategy}: a name, or the fields of {@code StrategySpec} in snake case. */
    private static StrategySpec strategy(JsonNode body) {
        JsonNode s = field(body, "pcw_strategy");
        if (s == null) return null;
        if (s.isTextual()) return StrategySpec.newBuilder().setName(s.asText()).build();
        if (!s.isObject()) throw wrongType("pcw_strategy", "a strategy name or an object");
        for (Iterator<String> names = s.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!STRATEGY_FIELDS.contains(name)) {
                throw OpenAiException.invalid("pcw_strategy." + name, "BAD_FIELD", "unknown strategy field '" + name + "'; known: "
                        + String.join(", ", STRATEGY_FIELDS.stream().sorted().toList()));
            }
        }
        StrategySpec.Builder spec = StrategySpec.newBuilder();
        String name = text(s, "name", "pcw_strategy.name");
        if (name != null) spec.setName(name);
        String rope = text(s, "rope", "pcw_strategy.rope");
        if (rope != null) spec.setRope(rope);
        Integer v;
        if ((v = nonNegativeInt(s, "top_k")) != null) spec.setTopK(v);
        if ((v = nonNegativeInt(s, "block_size")) != null) spec.setBlockSize(v);
        if ((v = nonNegativeInt(s, "sinks")) != null) spec.setSinks(v);
        if ((v = nonNegativeInt(s, "local")) != null) spec.setLocal(v);
        if ((v = nonNegativeInt(s, "chunk")) != null) spec.setChunk(v);
        if ((v = nonNegativeInt(s, "rerope_window")) != null) spec.setReropeWindow(v);
        Double d;
        if ((d = strategyNumber(s, "ape_temperature")) != null) spec.setApeTemperature(d.floatValue());
        if ((d = strategyNumber(s, "ape_scale")) != null) spec.setApeScale(d.floatValue());
        if ((d = strategyNumber(s, "rope_scale")) != null) spec.setRopeScale(d.floatValue());
        return spec.build();
    }

    // ------------------------------------------------------------------ typed reads

    /** The field, or null when it is absent or JSON null (OpenAI clients send null for "not set"). */
    private static JsonNode field(JsonNode object, String name) {
        JsonNode n = object.get(name);
        return n == null || n.isNull() ? null : n;
    }

    private static String text(JsonNode object, String name) {
        return text(object, name, name);
    }

    private static String text(JsonNode object, String name, String param) {
        JsonNode n = field(object, name);
        if (n == null) return null;
        if (!n.isTextual()) throw wrongType(param, "a string");
        return n.asText();
    }

    private static boolean bool(JsonNode object, String name) {
        return bool(object, name, name);
    }

    private static boolean bool(JsonNode object, String name, String param) {
        JsonNode n = field(object, name);
        if (n == null) return false;
        if (!n.isBoolean()) throw wrongType(param, "a boolean");
        return n.asBoolean();
    }

    private static Long integer(JsonNode object, String name) {
        JsonNode n = field(object, name);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw wrongType(name, "an integer");
        return n.asLong();
    }

    private static Integer positiveInt(JsonNode object, String name) {
        JsonNode n = field(object, name);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1) throw wrongType(name, "a positive integer");
        return n.asInt();
    }

    private static Integer nonNegativeInt(JsonNode strategy, String name) {
        JsonNode n = field(strategy, name);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) throw wrongType("pcw_strategy." + name, "a non-negative integer");
        return n.asInt();
    }

    private static Double strategyNumber(JsonNode strategy, String name) {
        JsonNode n = field(strategy, name);
        if (n == null) return null;
        if (!n.isNumber() || n.asDouble() < 0) throw wrongType("pcw_strategy." + name, "a non-negative number");
        return n.asDouble();
    }

    private static Double number(JsonNode object, String name, double min, double max) {
        JsonNode n = field(object, name);
        if (n == null) return null;
        if (!n.isNumber() || n.asDouble() < min || n.asDouble() > max) throw wrongType(name, "a number from " + min + " to " + max);
        return n.asDouble();
    }

    private static OpenAiException wrongType(String param, String expected) {
        return OpenAiException.invalid(param, "BAD_FIELD", param + " must be " + expected);
    }
}
