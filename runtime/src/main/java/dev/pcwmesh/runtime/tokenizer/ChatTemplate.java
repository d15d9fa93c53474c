package dev.pcwmesh.runtime.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.pcwmesh.runtime.gguf.GgufFile;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model's chat format: the Jinja template in {@code tokenizer.chat_template}, rendered with
 * Jinjava the way Hugging Face's {@code apply_chat_template} renders it (variables
 * {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token};
 * blocks trimmed; {@code raise_exception} and {@code strftime_now} defined). The output is text,
 * to be tokenized with special-token parsing on and without adding BOS again when the template
 * writes it.
 */
public final class ChatTemplate {

    /** ChatML, the usual format of models whose vocabulary has {@code <|im_start|>}. */
    static final String CHATML = """
            {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}\
            {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}""";

    /** For models with no template and no chat tokens: labelled turns in plain text. */
    static final String PLAIN = """
            {% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n\n{% endfor %}\
            {% if add_generation_prompt %}Assistant:{% endif %}""";

    private final String template;
    private final String bos;
    private final String eos;
    private final Jinjava jinjava;

    private ChatTemplate(String template, String bos, String eos) {
        this.template = template;
        this.bos = bos == null ? "" : bos;
        this.eos = eos == null ? "" : eos;
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplate.class, "strftimeNow", String.class));
    }

    /** A template from its Jinja source, with the texts of BOS and EOS it may refer to. */
    public static ChatTemplate of(String jinja, String bos, String eos) {
        if (jinja == null || jinja.isBlank()) throw new IllegalArgumentException("empty chat template");
        return new ChatTemplate(jinja, bos, eos);
    }

    /**
     * The file's {@code tokenizer.chat_template}; without one, ChatML when the vocabulary has its
     * tokens, else plain labelled turns ({@code User: ...}).
     */
    public static ChatTemplate fromGguf(GgufFile file, Tokenizer t) {
        String bos = t.bos() >= 0 ? t.piece(t.bos()) : "";
        String eos = t.eos() >= 0 ? t.piece(t.eos()) : "";
        String jinja = file.findString("tokenizer.chat_template").filter(s -> !s.isBlank()).orElse(null);
        if (jinja == null) jinja = hasPiece(t, "<|im_start|>") && hasPiece(t, "<|im_end|>") ? CHATML : PLAIN;
        return new ChatTemplate(jinja, bos, eos);
    }

    private static boolean hasPiece(Tokenizer t, String piece) {
        if (t instanceof VocabTokenizer v) return v.vocab.id(piece) >= 0;
        for (int i = 0; i < t.vocabSize(); i++) if (t.piece(i).equals(piece)) return true;
        return false;
    }

    /** The Jinja source in use. */
    public String source() { return template; }

    /** The conversation as the model expects it, ending with the assistant's cue when asked. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            msgs.add(map);
        }
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", msgs);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bos);
        vars.put("eos_token", eos);
        RenderResult result = jinjava.renderForResult(template, vars);
        var fatal = result.getErrors().stream()
                .filter(e -> e.getSeverity() == com.hubspot.jinjava.interpret.TemplateError.ErrorType.FATAL)
                .toList();
        if (!fatal.isEmpty()) {
            // A refusal by the template itself (raise_exception) reaches us wrapped; report its own words.
            for (Throwable c = fatal.getFirst().getException(); c != null; c = c.getCause()) {
                if (c instanceof TokenizerException te) throw new TokenizerException(te.getMessage());
            }
            throw new TokenizerException("chat template failed: " + fatal.getFirst().getMessage());
        }
        return result.getOutput();
    }

    /** Templates call {@code raise_exception('...')} to refuse a conversation (e.g. roles out of order). */
    public static String raiseException(String message) {
        throw new TokenizerException("chat template refused the conversation: " + message);
    }

    /** {@code strftime_now('%d %b %Y')}, which Llama 3.x templates use for the date; common directives only. */
    public static String strftimeNow(String format) {
        LocalDate d = LocalDate.now();
        return format.replace("%d", String.format("%02d", d.getDayOfMonth()))
                .replace("%b", d.format(DateTimeFormatter.ofPattern("MMM", Locale.ENGLISH)))
                .replace("%B", d.format(DateTimeFormatter.ofPattern("MMMM", Locale.ENGLISH)))
                .replace("%m", String.format("%02d", d.getMonthValue()))
                .replace("%Y", String.valueOf(d.getYear()));
    }
}
