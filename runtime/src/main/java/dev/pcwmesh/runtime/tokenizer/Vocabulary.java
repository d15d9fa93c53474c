package dev.pcwmesh.runtime.tokenizer;

import dev.pcwmesh.runtime.gguf.GgufFile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The token table of a model, read from GGUF the way llama.cpp's {@code llama_vocab::impl::load}
 * reads it: pieces, scores, per-token attributes, the special ids, and the end-of-generation set.
 * Both tokenizer algorithms share it.
 */
final class Vocabulary {

    /** The algorithm family, which decides the defaults llama.cpp applies. */
    enum Kind { SPM, BPE }

    // Token attributes, the bits of llama.cpp's llama_token_attr.
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 1 << 1;
    static final int ATTR_NORMAL = 1 << 2;
    static final int ATTR_CONTROL = 1 << 3;
    static final int ATTR_USER_DEFINED = 1 << 4;
    static final int ATTR_BYTE = 1 << 5;
    static final int ATTR_LSTRIP = 1 << 7;
    static final int ATTR_RSTRIP = 1 << 8;

    final Kind kind;
    final String[] pieces;
    final float[] scores;
    final int[] attrs;
    final Map<String, Integer> ids;

    int bos = -1;
    int eos = -1;
    int eot = -1;
    int eom = -1;
    int unk = -1;
    boolean addBos;
    boolean addEos;
    /** SentencePiece's dummy prefix: a space before the text (and removed again when decoding). */
    boolean addSpacePrefix;
    /** Whether decoding removes spaces before punctuation, as Hugging Face's clean_up_tokenization_spaces. */
    boolean cleanSpaces;
    final java.util.HashSet<Integer> endOfGeneration = new java.util.HashSet<>();
    /** Control, user-defined and unknown tokens, longest first: the order they are matched in raw text. */
    int[] specialTokens = new int[0];

    private Vocabulary(Kind kind, String[] pieces, float[] scores, int[] attrs) {
        this.kind = kind;
        this.pieces = pieces;
        this.scores = scores;
        this.attrs = attrs;
        this.ids = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            if (ids.putIfAbsent(pieces[i], i) != null) {
                throw new TokenizerException("duplicate token in vocabulary: '" + pieces[i] + "' has ids " + ids.get(pieces[i]) + " and " + i);
            }
        }
    }

    int size() { return pieces.length; }

    /** The id of a piece, or -1. */
    int id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? -1 : id;
    }

    boolean has(int id, int attr) { return id >= 0 && id < attrs.length && (attrs[id] & attr) != 0; }

    /**
     * Reads the vocabulary. {@code bpeAddBos} is the BPE default for adding BOS, which depends on
     * the pre-tokenizer (Llama 3 adds it), before {@code tokenizer.ggml.add_bos_token} overrides it.
     */
    static Vocabulary fromGguf(GgufFile f, Kind kind) { return fromGguf(f, kind, false, true); }

    static Vocabulary fromGguf(GgufFile f, Kind kind, boolean bpeAddBos, boolean bpeCleanSpaces) {
        if (!f.has("tokenizer.ggml.tokens")) throw new TokenizerException(f.path().getFileName() + ": no tokenizer.ggml.tokens");
        String[] pieces = f.getStringArray("tokenizer.ggml.tokens").clone();
        int n = pieces.length;
        for (int i = 0; i < n; i++) {
            if (pieces[i].isEmpty()) pieces[i] = "[EMPTY_" + i + "]"; // as llama.cpp, so the piece->id map stays one-to-one
        }
        float[] scores = new float[n];
        if (f.has("tokenizer.ggml.scores")) {
            Object v = f.value("tokenizer.ggml.scores").value();
            if (v instanceof float[] a) {
                if (a.length < n) throw new TokenizerException("tokenizer.ggml.scores has " + a.length + " entries for " + n + " tokens");
                System.arraycopy(a, 0, scores, 0, n);
            } else {
                int[] a = f.getIntArray("tokenizer.ggml.scores");
                for (int i = 0; i < n; i++) scores[i] = a[i];
            }
        }
        int[] attrs = new int[n];
        Arrays.fill(attrs, ATTR_NORMAL);
        if (f.has("tokenizer.ggml.token_type")) {
            int[] types = f.getIntArray("tokenizer.ggml.token_type");
            if (types.length < n) throw new TokenizerException("tokenizer.ggml.token_type has " + types.length + " entries for " + n + " tokens");
            for (int i = 0; i < n; i++) {
                attrs[i] = switch (types[i]) {
                    case 1 -> ATTR_NORMAL;
                    case 2 -> ATTR_UNKNOWN;
                    case 3 -> ATTR_CONTROL;
                    case 4 -> ATTR_USER_DEFINED;
                    case 5 -> ATTR_UNUSED;
                    case 6 -> ATTR_BYTE;
                    default -> 0; // undefined: llama.cpp renders nothing for it
                };
            }
        }
        Vocabulary v = new Vocabulary(kind, pieces, scores, attrs);

        // Defaults per family, then the file's keys (llama_vocab::impl::load).
        if (kind == Kind.SPM) {
            v.bos = 1; v.eos = 2; v.unk = 0;
            v.addBos = true; v.addEos = false;
            v.addSpacePrefix = true; v.cleanSpaces = false;
        } else {
            v.bos = 11; v.eos = 11;
            v.addBos = bpeAddBos; v.addEos = false;
            v.addSpacePrefix = false; v.cleanSpaces = bpeCleanSpaces;
        }
        v.addSpacePrefix = f.getBool("tokenizer.ggml.add_space_prefix", v.addSpacePrefix);
        if (v.bos >= n) v.bos = -1;
        if (v.eos >= n) v.eos = -1;
        if (v.unk >= n) v.unk = -1;
        v.bos = specialId(f, "tokenizer.ggml.bos_token_id", v.bos, n);
        v.eos = specialId(f, "tokenizer.ggml.eos_token_id", v.eos, n);
        v.eot = specialId(f, "tokenizer.ggml.eot_token_id", v.eot, n);
        v.eom = specialId(f, "tokenizer.ggml.eom_token_id", v.eom, n);
        v.unk = specialId(f, "tokenizer.ggml.unknown_token_id", v.unk, n);
        int fimPad = specialId(f, "tokenizer.ggml.fim_pad_token_id", -1, n);
        int fimRep = specialId(f, "tokenizer.ggml.fim_rep_token_id", -1, n);
        int fimSep = specialId(f, "tokenizer.ggml.fim_sep_token_id", -1, n);
        int fimPre = specialId(f, "tokenizer.ggml.fim_pre_token_id", specialId(f, "tokenizer.ggml.prefix_token_id", -1, n), n);
        int fimSuf = specialId(f, "tokenizer.ggml.fim_suf_token_id", specialId(f, "tokenizer.ggml.suffix_token_id", -1, n), n);
        int fimMid = specialId(f, "tokenizer.ggml.fim_mid_token_id", specialId(f, "tokenizer.ggml.middle_token_id", -1, n), n);
        v.addBos = f.getBool("tokenizer.ggml.add_bos_token", v.addBos);
        v.addEos = f.getBool("tokenizer.ggml.add_eos_token", v.addEos);
        if (v.addBos && v.bos < 0) throw new TokenizerException("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
        if (v.addEos && v.eos < 0) throw new TokenizerException("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");

        // Converters do not always say which tokens end a turn, so llama.cpp recognises them by
        // their text and forces them to be control tokens (so they are never printed by accident).
        if (v.eot < 0) v.eot = v.detect(EOT_TEXTS);
        if (v.eom < 0) v.eom = v.detect(Set.of("<|eom_id|>"));
        if (fimPre < 0) fimPre = v.detect(Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"));
        if (fimSuf < 0) fimSuf = v.detect(Set.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"));
        if (fimMid < 0) fimMid = v.detect(Set.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"));
        if (fimPad < 0) fimPad = v.detect(Set.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"));
        if (fimRep < 0) fimRep = v.detect(Set.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"));
        if (fimSep < 0) fimSep = v.detect(Set.of("<|file_sep|>"));
        for (int i = 0; i < n; i++) {
            if ((attrs[i] & ATTR_CONTROL) != 0 && pieces[i].contains("unused")) attrs[i] |= ATTR_UNUSED;
        }
        for (int id : new int[] {fimPad, fimRep, fimSep}) if (id >= 0) v.endOfGeneration.add(id);
        for (int i = 0; i < n; i++) {
            if (EOG_TEXTS.contains(pieces[i])) {
                v.endOfGeneration.add(i);
                attrs[i] |= ATTR_CONTROL;
            }
        }
        for (int i = 0; i < n; i++) {
            // gpt-oss renders these structural tokens as text (llama.cpp's "quick hack").
            if (Set.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>").contains(pieces[i])) attrs[i] = ATTR_USER_DEFINED;
        }
        for (int id : new int[] {v.eos, v.eot, v.eom}) if (id >= 0) v.endOfGeneration.add(id);
        v.applyEogWorkarounds();

        List<Integer> special = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if ((attrs[i] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0) special.add(i);
        }
        // Longest first, so that "<|im_start|>" is found before any shorter token inside it.
        special.sort(Comparator.comparingInt((Integer i) -> -pieces[i].length()).thenComparingInt(i -> i));
        v.specialTokens = special.stream().mapToInt(Integer::intValue).toArray();

        // Phi-3 strips spaces after its special tokens (llama.cpp sets this by model name).
        String name = f.findString("general.name").orElse("").toLowerCase(Locale.ROOT);
        if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : v.specialTokens) attrs[id] |= ATTR_RSTRIP;
            v.setStrip("</s>", true);
            for (String s : new String[] {"<unk>", "<s>", "<|endoftext|>"}) v.setStrip(s, false);
        }
        return v;
    }

    /** Texts llama.cpp takes for the end-of-turn token when the file names none. */
    private static final Set<String> EOT_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>");

    /** Texts of tokens that end generation in llama.cpp whatever the metadata says. */
    private static final Set<String> EOG_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
            "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
            "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[");

    private int detect(Set<String> texts) {
        for (int i = 0; i < pieces.length; i++) {
            if (texts.contains(pieces[i])) {
                attrs[i] |= ATTR_CONTROL;
                return i;
            }
        }
        return -1;
    }

    private void applyEogWorkarounds() {
        // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation.
        boolean hasReturn = false, hasCall = false, hasFlush = false;
        int end = -1, closeS = -1;
        boolean hasToolResponse = false;
        for (int id : endOfGeneration) {
            switch (pieces[id]) {
                case "<|return|>" -> hasReturn = true;
                case "<|call|>", "<|calls|>" -> hasCall = true;
                case "<|flush|>" -> hasFlush = true;
                case "<|end|>" -> end = id;
                case "<|tool_response>" -> hasToolResponse = true;
                case "</s>" -> closeS = id;
                default -> { }
            }
        }
        if (end >= 0 && ((hasReturn && hasCall) || (hasCall && hasFlush))) {
            endOfGeneration.remove(end);
            attrs[end] = ATTR_USER_DEFINED;
        }
        // Gemma 4: "</s>" is ordinary text there.
        if (hasToolResponse && closeS >= 0) {
            endOfGeneration.remove(closeS);
            attrs[closeS] = ATTR_NORMAL;
        }
    }

    private void setStrip(String piece, boolean on) {
        int id = id(piece);
        if (id < 0) return;
        if (on) attrs[id] |= ATTR_RSTRIP; else attrs[id] &= ~ATTR_RSTRIP;
    }

    /** A special id from the file when it lies inside the vocabulary, else the default (as llama.cpp). */
    private static int specialId(GgufFile f, String key, int fallback, int n) {
        if (!f.has(key)) return fallback;
        long id = f.getLong(key);
        return id >= 0 && id < n ? (int) id : fallback;
    }
}
