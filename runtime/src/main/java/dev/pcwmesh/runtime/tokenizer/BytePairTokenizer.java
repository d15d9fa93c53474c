package dev.pcwmesh.runtime.tokenizer;

import dev.pcwmesh.runtime.gguf.GgufFile;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE as llama.cpp's {@code llm_tokenizer_bpe}: the pre-tokenizer cuts the text into
 * words, each word is spelled in GPT-2's byte characters, and within a word the adjacent pair
 * with the lowest merge rank ({@code tokenizer.ggml.merges}) is merged, leftmost first among
 * equals, until no pair has a rank. A final symbol that is not a token falls back to its single
 * bytes.
 */
final class BytePairTokenizer extends VocabTokenizer {

    private final PreTokenizer preTokenizer;
    private final RegexSplitter splitter;
    /** Merge ranks keyed by {@code "left right"}: the pair's text with the separator the file uses. */
    private final Map<String, Integer> ranks;
    /** Words repeat a lot in real text; their ids are kept (bounded, cleared when full). */
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();
    private static final int WORD_CACHE_LIMIT = 1 << 16;

    private BytePairTokenizer(Vocabulary vocab, PreTokenizer preTokenizer, Map<String, Integer> ranks) {
        super(vocab);
        this.preTokenizer = preTokenizer;
        this.splitter = new RegexSplitter(preTokenizer.regexes());
        this.ranks = ranks;
        cachePieces();
    }

    static BytePairTokenizer fromGguf(GgufFile f) {
        PreTokenizer pre = PreTokenizer.named(f.findString("tokenizer.ggml.pre").orElse(null));
        Vocabulary vocab = Vocabulary.fromGguf(f, Vocabulary.Kind.BPE, pre.addBos(), pre.cleanSpaces());
        if (!f.has("tokenizer.ggml.merges")) throw new TokenizerException(f.path().getFileName() + ": BPE tokenizer without tokenizer.ggml.merges");
        String[] merges = f.getStringArray("tokenizer.ggml.merges");
        Map<String, Integer> ranks = new HashMap<>(merges.length * 2);
        for (int i = 0; i < merges.length; i++) {
            String m = merges[i];
            int space = m.indexOf(' ', 1); // from 1: the left part may itself be a space in some vocabularies
            if (space < 0) continue;       // llama.cpp would file it under ("", ""), which no pair ever looks up
            ranks.putIfAbsent(m, i);
        }
        return new BytePairTokenizer(vocab, pre, ranks);
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        for (String word : splitter.split(text)) {
            String encoded = ByteLevel.encode(word);
            int[] ids = wordCache.get(encoded);
            if (ids == null) {
                ids = encodeWord(encoded);
                if (wordCache.size() >= WORD_CACHE_LIMIT) wordCache.clear();
                wordCache.put(encoded, ids);
            }
            out.addAll(ids);
        }
    }

    /** Merges within one byte-encoded word; symbols are its characters, kept as a linked list. */
    private int[] encodeWord(String word) {
        IntList out = new IntList();
        if (preTokenizer.ignoreMerges()) {
            int id = vocab.id(word);
            if (id >= 0) {
                out.add(id);
                return out.toArray();
            }
        }
        int n = word.codePointCount(0, word.length());
        int[] start = new int[n], length = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, off = 0; i < n; i++) {
            int len = Character.charCount(word.codePointAt(off));
            start[i] = off; length[i] = len; prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1;
            off += len;
        }
        // entries: {rank, left, right, size}; lowest rank first, then leftmost
        PriorityQueue<int[]> queue = new PriorityQueue<>(Math.max(1, n), (a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]));
        for (int i = 1; i < n; i++) addBigram(word, start, length, i - 1, i, queue);
        while (!queue.isEmpty()) {
            int[] bigram = queue.poll();
            int left = bigram[1], right = bigram[2];
            // stale when either side has changed since the pair was queued
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram[3]) continue;
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) addBigram(word, start, length, prev[left], left, queue);
            if (next[left] >= 0) addBigram(word, start, length, left, next[left], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String symbol = word.substring(start[i], start[i] + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // Not a token: llama.cpp looks up each UTF-8 byte of the symbol as a one-byte string;
            // only ASCII bytes can be such a string here (a lone byte >= 0x80 is not text).
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                if (b >= 0) {
                    int byteId = vocab.id(String.valueOf((char) b));
                    if (byteId >= 0) out.add(byteId);
                }
            }
        }
        return out.toArray();
    }

    private void addBigram(String word, int[] start, int[] length, int left, int right, PriorityQueue<int[]> queue) {
        String key = word.substring(start[left], start[left] + length[left]) + ' ' + word.substring(start[right], start[right] + length[right]);
        Integer rank = ranks.get(key);
        if (rank != null) queue.add(new int[] {rank, left, right, length[left] + length[right]});
    }

    @Override
    byte[] pieceBytes(int id) {
        byte[] special = specialOrPiece(id);
        if (special != null) return special;
        String piece = vocab.pieces[id];
        if (vocab.has(id, Vocabulary.ATTR_BYTE)) return new byte[] {hexByte(piece)};
        // llama_decode_text: each character back to its byte; one that is not a byte character is kept visible
        ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
        piece.codePoints().forEach(cp -> {
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                StringBuilder unk = new StringBuilder("[UNK_BYTE_0x");
                for (byte x : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) unk.append(String.format("%02x", x & 0xFF));
                unk.append(piece).append(']');
                out.writeBytes(unk.toString().getBytes(StandardCharsets.UTF_8));
            }
        });
        return out.toByteArray();
    }
}
