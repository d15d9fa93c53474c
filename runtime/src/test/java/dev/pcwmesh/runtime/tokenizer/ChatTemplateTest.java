package dev.pcwmesh.runtime.tokenizer;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real chat templates (as stored in GGUF files, newlines as characters) rendered by Jinjava. */
class ChatTemplateTest {

    static final String QWEN2_CHATML = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    static final String LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
            + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    static final String MISTRAL = "{{ bos_token }}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}";

    private static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage("system", "Answer briefly."),
            new ChatMessage("user", "  What is 2+2?  "),
            new ChatMessage("assistant", "4"),
            new ChatMessage("user", "And 3+3?"));

    @Test
    void chatMl() {
        ChatTemplate t = ChatTemplate.of(QWEN2_CHATML, "", "<|im_end|>");
        assertEquals("<|im_start|>system\nAnswer briefly.<|im_end|>\n"
                + "<|im_start|>user\n  What is 2+2?  <|im_end|>\n"
                + "<|im_start|>assistant\n4<|im_end|>\n"
                + "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                + "<|im_start|>assistant\n", t.render(CONVERSATION, true));
        // no system message: the template adds its default one; no generation prompt asked
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
                t.render(List.of(new ChatMessage("user", "Hi")), false));
    }

    @Test
    void llama3TrimsContentAndStartsWithBos() {
        ChatTemplate t = ChatTemplate.of(LLAMA3, "<|begin_of_text|>", "<|eot_id|>");
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer briefly.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(CONVERSATION, true));
    }

    @Test
    void templateCanRefuseAConversation() {
        ChatTemplate t = ChatTemplate.of(MISTRAL, "<s>", "</s>");
        assertEquals("<s>[INST] Hi [/INST]Hello</s>[INST] Bye [/INST]", t.render(List.of(
                new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Hello"), new ChatMessage("user", "Bye")), false));
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> t.render(List.of(new ChatMessage("assistant", "first")), false));
        assertTrue(e.getMessage().contains("must alternate"), e.getMessage());
    }

    @Test
    void templateFromGgufAndItsTokens() {
        Tokenizer tok = TokenizerTest.load("ggml-vocab/ggml-vocab-phi-3.gguf");
        try (GgufFile f = GgufFile.open(TestModels.shared("ggml-vocab/ggml-vocab-phi-3.gguf"))) {
            ChatTemplate t = ChatTemplate.fromGguf(f, tok);
            String prompt = t.render(List.of(new ChatMessage("user", "Hi")), true);
            assertEquals("<s><|user|>\nHi<|end|>\n<|assistant|>\n", prompt);
            int[] ids = tok.encode(prompt, false, true);
            assertEquals(tok.bos(), ids[0]);
            assertEquals(32010, ids[1]);
        }
    }

    @Test
    void fallbackWithoutTemplate() {
        Tokenizer tok = TokenizerTest.load("stories260K.gguf");
        try (GgufFile f = GgufFile.open(TestModels.shared("stories260K.gguf"))) {
            ChatTemplate t = ChatTemplate.fromGguf(f, tok);
            assertEquals(ChatTemplate.PLAIN, t.source());
            assertEquals("User: Tell me a story.\n\nAssistant:", t.render(List.of(new ChatMessage("user", "Tell me a story.")), true));
        }
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.of(ChatTemplate.CHATML, "", "").render(List.of(new ChatMessage("user", "Hi")), true));
    }
}
