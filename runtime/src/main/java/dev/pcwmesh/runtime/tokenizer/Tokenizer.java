package dev.pcwmesh.runtime.tokenizer;

import dev.pcwmesh.runtime.gguf.GgufFile;

/**
 * Text to token ids and back, built from a GGUF file's {@code tokenizer.ggml.*} metadata and
 * behaving exactly like llama.cpp's {@code llama_vocab} for the supported models.
 *
 * <p>Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /**
     * The tokenizer a GGUF file describes: SentencePiece for {@code tokenizer.ggml.model = llama},
     * byte-level BPE for {@code gpt2}. Other models (WordPiece {@code bert}, Unigram {@code t5},
     * {@code rwkv}, ...) get a {@link TokenizerException} naming the model.
     */
    static Tokenizer fromGguf(GgufFile file) {
        String model = file.findString("tokenizer.ggml.model")
                .orElseThrow(() -> new TokenizerException(file.path().getFileName() + ": no tokenizer.ggml.model key; the file carries no tokenizer"));
        return switch (model) {
            case "llama" -> new SentencePieceTokenizer(Vocabulary.fromGguf(file, Vocabulary.Kind.SPM));
            case "gpt2" -> BytePairTokenizer.fromGguf(file);
            default -> throw new TokenizerException("unsupported tokenizer model '" + model + "' in " + file.path().getFileName()
                    + ": only SentencePiece ('llama') and byte-level BPE ('gpt2') are supported");
        };
    }

    /**
     * Tokenizes {@code text}.
     *
     * @param addSpecial   add BOS / EOS where the model asks for them ({@link #addBos()}, {@link #addEos()})
     * @param parseSpecial match control tokens written in the text (such as {@code <|im_start|>}) as
     *                     single tokens; user-defined tokens are always matched, as in llama.cpp
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * The text of a whole sequence, as llama.cpp's {@code common_detokenize(ctx, ids, true)}: special
     * tokens rendered as their text, byte tokens reassembled into UTF-8, the space that
     * SentencePiece's dummy prefix added before the first token removed, and for BPE models that
     * ask for it ({@code clean_spaces}) the tokenizer-cleanup of spaces before punctuation.
     */
    String decode(int[] ids);

    /** The raw bytes a token stands for (special tokens as their text); for streaming output. */
    byte[] tokenBytes(int id);

    /** The vocabulary entry as stored in the file (e.g. {@code ▁the}, {@code Ġthe}, {@code <0x0A>}). */
    String piece(int id);

    int vocabSize();

    /** Beginning-of-sequence id, or -1 when the model has none. */
    int bos();

    /** End-of-sequence id, or -1 when the model has none. */
    int eos();

    boolean addBos();

    boolean addEos();

    /** Whether generation should stop at this token: EOS, EOT, EOM and the well-known end-of-turn texts. */
    boolean isEndOfGeneration(int id);

    /** Whether this is a control token (not text: BOS, EOS, {@code <|im_start|>}, ...). */
    boolean isControl(int id);
}
