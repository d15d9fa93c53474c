package dev.pcwmesh.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * What SentencePiece and BPE share: special-token splitting, BOS/EOS, and detokenization
 * ({@code llama_vocab::impl::tokenize} and {@code detokenize}). Subclasses turn one fragment of
 * plain text into ids and one token into bytes.
 */
abstract sealed class VocabTokenizer implements Tokenizer permits SentencePieceTokenizer, BytePairTokenizer {

    final Vocabulary vocab;
    /** Every token's bytes, computed once (llama.cpp's cache_token_to_piece). */
    private final byte[][] bytes;

    VocabTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.bytes = new byte[vocab.size()][];
    }

    /** Fills the piece cache; called by subclasses once they are fully built. */
    final void cachePieces() {
        for (int i = 0; i < bytes.length; i++) bytes[i] = pieceBytes(i);
    }

    /** Appends the ids of a run of plain text (no special tokens in it any more). */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    /** The bytes a normal (or byte) token stands for. */
    abstract byte[] pieceBytes(int id);

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        if (text == null) throw new IllegalArgumentException("text is null");
        text = wellFormed(text);
        IntList out = new IntList();
        if (addSpecial && vocab.addBos) out.add(vocab.bos);
        boolean afterSpecial = true; // the start of the text counts as after a special token (SentencePiece prefix)
        for (SpecialTokenSplitter.Fragment f : SpecialTokenSplitter.split(vocab, text, parseSpecial)) {
            if (f.isText()) {
                encodeText(f.text(), afterSpecial, out);
                afterSpecial = false;
            } else {
                out.add(f.token());
                afterSpecial = true;
            }
        }
        if (addSpecial && vocab.addEos) out.add(vocab.eos);
        return out.toArray();
    }

    /** Lone surrogates cannot be UTF-8; they become U+FFFD, as llama.cpp turns invalid UTF-8 into it. */
    private static String wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
                if (!paired) {
                    StringBuilder sb = new StringBuilder(s.length());
                    s.codePoints().forEach(cp -> sb.appendCodePoint(Character.isSurrogate((char) cp) && cp <= 0xFFFF ? 0xFFFD : cp));
                    return sb.toString();
                }
                i++;
            }
        }
        return s;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean removeSpace = vocab.addSpacePrefix; // the dummy prefix's space before the first token
        for (int id : ids) {
            byte[] b = tokenBytes(id);
            int skip = removeSpace && b.length > 0 && b[0] == ' ' ? 1 : 0;
            out.write(b, skip, b.length - skip);
            removeSpace = false;
        }
        String text = new String(out.toByteArray(), StandardCharsets.UTF_8);
        return vocab.cleanSpaces ? cleanSpaces(text) : text;
    }

    /**
     * Hugging Face's clean_up_tokenization_spaces as llama.cpp does it: no space before
     * {@code ? ! . ,}, none around a lone apostrophe, none before {@code 's 'm 're 've}.
     */
    static String cleanSpaces(String text) {
        StringBuilder a = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char x = text.charAt(i);
            if (i > 0 && text.charAt(i - 1) == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.setLength(a.length() - 1);
            a.append(x);
        }
        StringBuilder b = new StringBuilder(a.length());
        for (int i = 0; i < a.length(); i++) {
            char x = a.charAt(i);
            if (i > 0 && x == '\'' && i + 1 < a.length() && a.charAt(i - 1) == ' ' && a.charAt(i + 1) == ' ') {
                b.setLength(b.length() - 1); // the space before
                b.append(x);
                i++;                          // and the one after
                continue;
            }
            b.append(x);
        }
        StringBuilder c = new StringBuilder(b.length());
        for (int i = 0; i < b.length(); i++) {
            char x = b.charAt(i);
            if (i > 0 && b.charAt(i - 1) == ' ' && x == '\'' && i + 1 < b.length()) {
                char x1 = b.charAt(i + 1);
                boolean re = i + 2 < b.length() && ((x1 == 'r' && b.charAt(i + 2) == 'e') || (x1 == 'v' && b.charAt(i + 2) == 'e'));
                if (x1 == 's' || x1 == 'm' || re) c.setLength(c.length() - 1);
            }
            c.append(x);
        }
        return c.toString();
    }

    @Override
    public byte[] tokenBytes(int id) {
        check(id);
        return bytes[id].clone();
    }

    /** Bytes of a token without a copy, for this package's decoders. */
    final byte[] sharedBytes(int id) {
        check(id);
        return bytes[id];
    }

    /** llama.cpp's token_to_piece with special = true: special and user-defined tokens as their text. */
    final byte[] specialOrPiece(int id) {
        int attr = vocab.attrs[id];
        if ((attr & (Vocabulary.ATTR_UNKNOWN | Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_USER_DEFINED)) != 0) {
            return vocab.pieces[id].getBytes(StandardCharsets.UTF_8);
        }
        if ((attr & (Vocabulary.ATTR_NORMAL | Vocabulary.ATTR_BYTE)) != 0) return null; // the subclass decides
        return new byte[0]; // unused or undefined tokens render as nothing
    }

    /** The byte of a {@code <0xNN>} token. */
    static byte hexByte(String piece) {
        return (byte) Integer.parseInt(piece.substring(3, 5), 16);
    }

    private void check(int id) {
        if (id < 0 || id >= vocab.size()) throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + vocab.size());
    }

    @Override public String piece(int id) { check(id); return vocab.pieces[id]; }
    @Override public int vocabSize() { return vocab.size(); }
    @Override public int bos() { return vocab.bos; }
    @Override public int eos() { return vocab.eos; }
    @Override public boolean addBos() { return vocab.addBos; }
    @Override public boolean addEos() { return vocab.addEos; }
    @Override public boolean isEndOfGeneration(int id) { return vocab.endOfGeneration.contains(id); }
    @Override public boolean isControl(int id) { return vocab.has(id, Vocabulary.ATTR_CONTROL); }
}
