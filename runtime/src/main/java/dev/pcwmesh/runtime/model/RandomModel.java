package dev.pcwmesh.runtime.model;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.gguf.GgufException;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.gguf.GgufValue;
import dev.pcwmesh.runtime.gguf.GgufWriter;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Writes a GGUF model of a real architecture's shape with random weights, named exactly as
 * llama.cpp names things, for tests and benchmarks that need a model of a given size without a
 * download.
 *
 * <p>Matrices are random normal with standard deviation {@code 1/sqrt(row length)} (so a matrix
 * times a unit-RMS vector stays near unit RMS); norm weights are {@code 1 + N(0, 0.02)}; biases
 * {@code N(0, 0.02)}. Values are generated tensor by tensor while the file is written, from a
 * generator seeded by the spec's seed and the tensor name, so a seed always gives the same file
 * and large models never sit in memory.
 */
public final class RandomModel {

    public static final Set<String> ARCHITECTURES = Set.of("llama", "qwen2", "qwen3");

    /** Tokens every generated SentencePiece vocabulary starts with: unk, bos, eos, 256 bytes. */
    public static final int FIXED_TOKENS = 3 + 256;

    /**
     * What to make.
     *
     * @param arch          {@code llama}, {@code qwen2} or {@code qwen3}
     * @param layers        transformer blocks
     * @param dim           embedding width
     * @param heads         attention (query) heads
     * @param kvHeads       key/value heads (grouped-query attention when fewer than heads)
     * @param headDim       per-head width; 0 means {@code dim / heads}
     * @param ffn           feed-forward width
     * @param vocab         vocabulary size (ignored when {@code vocabFrom} is given)
     * @param type          tensor type of the matrices
     * @param tied          whether the output projection reuses {@code token_embd.weight}
     * @param contextLength trained context length written to the metadata
     * @param ropeBase      rotary base frequency; 0 means the architecture's usual one
     * @param seed          random seed
     * @param vocabFrom     a GGUF file whose {@code tokenizer.*} keys are copied, or null
     */
    public record Spec(String arch, int layers, int dim, int heads, int kvHeads, int headDim, int ffn, int vocab,
                       GgmlType type, boolean tied, int contextLength, double ropeBase, long seed, Path vocabFrom) {

        public Spec {
            Objects.requireNonNull(arch, "arch");
            Objects.requireNonNull(type, "type");
            if (!ARCHITECTURES.contains(arch)) throw new IllegalArgumentException("unknown architecture " + arch + "; expected one of llama, qwen2, qwen3");
            positive("layers", layers);
            positive("dim", dim);
            positive("heads", heads);
            positive("kv-heads", kvHeads);
            positive("ffn", ffn);
            positive("context-length", contextLength);
            if (headDim < 0) throw new IllegalArgumentException("head-dim must be positive, got " + headDim);
            if (heads % kvHeads != 0) throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kv-heads (" + kvHeads + ")");
            if (headDim == 0 && dim % heads != 0) {
                throw new IllegalArgumentException("dim (" + dim + ") is not a multiple of heads (" + heads + "); give head-dim explicitly");
            }
            int hd = headDim == 0 ? dim / heads : headDim;
            if (hd % 2 != 0) throw new IllegalArgumentException("head dimension " + hd + " must be even for rotary embeddings");
            if (vocabFrom == null && vocab < FIXED_TOKENS + 1) {
                throw new IllegalArgumentException("vocab must be at least " + (FIXED_TOKENS + 1) + " (unk, bos, eos, 256 byte tokens and one piece), got " + vocab);
            }
            if (ropeBase < 0) throw new IllegalArgumentException("rope-base must be positive, got " + ropeBase);
        }

        private static void positive(String name, int v) {
            if (v <= 0) throw new IllegalArgumentException(name + " must be positive, got " + v);
        }

        /** A tiny model of the architecture: 2 layers, width 64, 4 heads, 2 KV heads, FFN 128, vocabulary 512, F32. */
        public static Spec defaults(String arch) {
            return new Spec(arch, 2, 64, 4, 2, 0, 128, 512, GgmlType.F32, false, 2048, 0, 42, null);
        }

        /** The per-head width actually used. */
        public int effectiveHeadDim() { return headDim == 0 ? dim / heads : headDim; }

        /** The rotary base actually used: as given, or 10000 for llama and 1000000 for qwen. */
        public double effectiveRopeBase() {
            if (ropeBase > 0) return ropeBase;
            return arch.equals("llama") ? 10_000 : 1_000_000;
        }

        public Spec withArch(String v) { return new Spec(v, layers, dim, heads, kvHeads, headDim, ffn, vocab, type, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withLayers(int v) { return new Spec(arch, v, dim, heads, kvHeads, headDim, ffn, vocab, type, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withDim(int v) { return new Spec(arch, layers, v, heads, kvHeads, headDim, ffn, vocab, type, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withHeads(int h, int kv) { return new Spec(arch, layers, dim, h, kv, headDim, ffn, vocab, type, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withHeadDim(int v) { return new Spec(arch, layers, dim, heads, kvHeads, v, ffn, vocab, type, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withFfn(int v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, v, vocab, type, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withVocab(int v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, v, type, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withType(GgmlType v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, vocab, v, tied, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withTied(boolean v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, vocab, type, v, contextLength, ropeBase, seed, vocabFrom); }
        public Spec withContextLength(int v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, vocab, type, tied, v, ropeBase, seed, vocabFrom); }
        public Spec withRopeBase(double v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, vocab, type, tied, contextLength, v, seed, vocabFrom); }
        public Spec withSeed(long v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, vocab, type, tied, contextLength, ropeBase, v, vocabFrom); }
        public Spec withVocabFrom(Path v) { return new Spec(arch, layers, dim, heads, kvHeads, headDim, ffn, vocab, type, tied, contextLength, ropeBase, seed, v); }
    }

    /** What was written. */
    public record Result(Path path, int vocab, int tensors, long parameters, List<String> notes) {}

    private RandomModel() {}

    /** Writes the model described by {@code spec} to {@code out}; notes (type fallbacks, vocabulary) go to {@code log}. */
    public static Result write(Spec spec, Path out, Consumer<String> log) {
        List<String> notes = new ArrayList<>();
        Consumer<String> note = s -> { notes.add(s); log.accept(s); };
        String a = spec.arch();
        int hd = spec.effectiveHeadDim();
        GgufWriter w = new GgufWriter();

        // Vocabulary first (its size shapes the embedding), but written after the model keys.
        Map<String, GgufValue> tokenizer;
        int vocab;
        if (spec.vocabFrom() != null) {
            tokenizer = new java.util.LinkedHashMap<>();
            try (GgufFile src = GgufFile.open(spec.vocabFrom())) {
                src.metadata().forEach((k, v) -> { if (k.startsWith("tokenizer.")) tokenizer.put(k, v); });
                if (!tokenizer.containsKey("tokenizer.ggml.tokens")) {
                    throw new GgufException(spec.vocabFrom() + " has no tokenizer.ggml.tokens to copy a vocabulary from");
                }
                vocab = tokenizer.get("tokenizer.ggml.tokens").length();
            }
            note.accept("vocabulary of " + vocab + " tokens from " + spec.vocabFrom().getFileName()
                    + (vocab != spec.vocab() ? " (overrides --vocab " + spec.vocab() + ")" : ""));
        } else {
            vocab = spec.vocab();
            tokenizer = sentencePieceVocabulary(vocab);
        }

        w.putString("general.architecture", a);
        w.putString("general.name", "random " + a + " " + spec.layers() + "x" + spec.dim() + " " + spec.type() + " seed " + spec.seed());
        w.putUint32("general.alignment", GgufFile.DEFAULT_ALIGNMENT);
        w.putUint32(a + ".vocab_size", vocab);
        w.putUint32(a + ".context_length", spec.contextLength());
        w.putUint32(a + ".embedding_length", spec.dim());
        w.putUint32(a + ".feed_forward_length", spec.ffn());
        w.putUint32(a + ".block_count", spec.layers());
        w.putUint32(a + ".attention.head_count", spec.heads());
        w.putUint32(a + ".attention.head_count_kv", spec.kvHeads());
        w.putUint32(a + ".rope.dimension_count", hd);
        w.putFloat32(a + ".rope.freq_base", (float) spec.effectiveRopeBase());
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", a.equals("llama") ? 1e-5f : 1e-6f);
        if (a.equals("qwen3") || hd * spec.heads() != spec.dim()) {
            w.putUint32(a + ".attention.key_length", hd);
            w.putUint32(a + ".attention.value_length", hd);
        }
        w.putAll(tokenizer);

        long[] params = {0};
        int dim = spec.dim(), q = spec.heads() * hd, kv = spec.kvHeads() * hd, ffn = spec.ffn();
        Tensors t = new Tensors(w, spec, note, params);
        t.matrix("token_embd.weight", dim, vocab);
        for (int i = 0; i < spec.layers(); i++) {
            String b = "blk." + i + ".";
            t.norm(b + "attn_norm.weight", dim);
            t.matrix(b + "attn_q.weight", dim, q);
            t.matrix(b + "attn_k.weight", dim, kv);
            t.matrix(b + "attn_v.weight", dim, kv);
            if (a.equals("qwen2")) {
                t.bias(b + "attn_q.bias", q);
                t.bias(b + "attn_k.bias", kv);
                t.bias(b + "attn_v.bias", kv);
            }
            if (a.equals("qwen3")) {
                t.norm(b + "attn_q_norm.weight", hd);
                t.norm(b + "attn_k_norm.weight", hd);
            }
            t.matrix(b + "attn_output.weight", q, dim);
            t.norm(b + "ffn_norm.weight", dim);
            t.matrix(b + "ffn_gate.weight", dim, ffn);
            t.matrix(b + "ffn_up.weight", dim, ffn);
            t.matrix(b + "ffn_down.weight", ffn, dim);
        }
        t.norm("output_norm.weight", dim);
        if (!spec.tied()) t.matrix("output.weight", dim, vocab);

        w.write(out);
        return new Result(out, vocab, w.tensorCount(), params[0], List.copyOf(notes));
    }

    /** Adds tensors with per-name random streams and the llama.cpp type fallbacks. */
    private record Tensors(GgufWriter w, Spec spec, Consumer<String> note, long[] params) {

        /** A matrix of {@code rows x cols}: GGML shape {@code {cols, rows}}. */
        void matrix(String name, int cols, int rows) {
            GgmlType type = typeFor(spec.type(), cols);
            if (type != spec.type()) {
                note.accept(name + ": rows of " + cols + " are not a multiple of " + spec.type() + "'s block of "
                        + spec.type().blockSize() + "; using " + type);
            }
            double std = 1.0 / Math.sqrt(cols);
            add(name, type, new long[]{cols, rows}, 0.0, std);
        }

        void norm(String name, int n) { add(name, GgmlType.F32, new long[]{n}, 1.0, 0.02); }

        void bias(String name, int n) { add(name, GgmlType.F32, new long[]{n}, 0.0, 0.02); }

        private void add(String name, GgmlType type, long[] shape, double mean, double std) {
            SplittableRandom rng = new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L ^ fnv(name));
            w.addTensor(name, type, shape, (first, dst, n) -> {
                for (int i = 0; i < n; i++) dst[i] = (float) (mean + std * rng.nextGaussian());
            });
            long e = 1;
            for (long d : shape) e *= d;
            params[0] += e;
        }
    }

    /**
     * The type llama.cpp's quantizer uses for rows of {@code rowLength}: K-quants fall back to
     * Q5_0 / Q5_1 / Q8_0 (Q4_0 for the smaller ones) when rows are not a multiple of 256, and any
     * type falls back to F16 when rows are not a multiple of its block.
     */
    public static GgmlType typeFor(GgmlType requested, long rowLength) {
        GgmlType t = requested;
        if (rowLength % t.blockSize() != 0 && t.blockSize() == 256) {
            t = switch (t) {
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                case Q2_K, Q3_K, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M -> GgmlType.Q4_0;
                case IQ4_XS -> GgmlType.IQ4_NL;
                default -> GgmlType.Q8_0;
            };
        }
        if (rowLength % t.blockSize() != 0) t = GgmlType.F16;
        return t;
    }

    /**
     * A SentencePiece-style vocabulary of exactly {@code size} tokens: {@code <unk>} (type 2),
     * {@code <s>} and {@code </s>} (type 3), the byte tokens {@code <0x00>..<0xFF>} (type 6), then
     * normal pieces (type 1) with decreasing scores: {@code ▁}, single letters and digits, then
     * {@code ▁}-prefixed and bare lowercase pieces of growing length.
     */
    public static Map<String, GgufValue> sentencePieceVocabulary(int size) {
        if (size <= FIXED_TOKENS) throw new IllegalArgumentException("vocabulary size " + size + " leaves no room for pieces");
        String[] tokens = new String[size];
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens[0] = "<unk>"; types[0] = 2;
        tokens[1] = "<s>"; types[1] = 3;
        tokens[2] = "</s>"; types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = 6;
        }
        Set<String> pieces = new LinkedHashSet<>();
        pieces.add("▁");
        String alphabet = "etaoinshrdlcumwfgypbvkjxqz";
        for (char c : alphabet.toCharArray()) pieces.add(String.valueOf(c));
        for (char c : alphabet.toCharArray()) pieces.add("▁" + c);
        for (char c : "0123456789.,!?'\"-:;()".toCharArray()) pieces.add(String.valueOf(c));
        int need = size - FIXED_TOKENS;
        List<String> level = new ArrayList<>();
        for (char c : alphabet.toCharArray()) level.add(String.valueOf(c));
        while (pieces.size() < need) {
            List<String> next = new ArrayList<>();
            outer:
            for (String p : level) {
                for (char c : alphabet.toCharArray()) {
                    String s = p + c;
                    next.add(s);
                    pieces.add("▁" + s);
                    if (pieces.size() >= need) break outer;
                    pieces.add(s);
                    if (pieces.size() >= need) break outer;
                }
            }
            level = next;
        }
        int i = FIXED_TOKENS;
        for (String p : pieces) {
            if (i == size) break;
            tokens[i] = p;
            scores[i] = -(i - FIXED_TOKENS);
            types[i] = 1;
            i++;
        }
        Map<String, GgufValue> kv = new java.util.LinkedHashMap<>();
        kv.put("tokenizer.ggml.model", GgufValue.of("llama"));
        kv.put("tokenizer.ggml.tokens", GgufValue.ofStrings(tokens));
        kv.put("tokenizer.ggml.scores", GgufValue.ofFloats(scores));
        kv.put("tokenizer.ggml.token_type", GgufValue.ofInt32s(types));
        kv.put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(1));
        kv.put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(2));
        kv.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUint32(0));
        kv.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(true));
        kv.put("tokenizer.ggml.add_eos_token", GgufValue.ofBool(false));
        return kv;
    }

    private static long fnv(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
