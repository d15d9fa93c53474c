package dev.pcwmesh.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE as llama.cpp's {@code llm_tokenizer_spm}: spaces become {@code ▁} (with one
 * more in front after BOS or a special token when the model adds a dummy prefix), the text starts
 * as single characters, and the adjacent pair whose concatenation is the highest-scoring token is
 * merged, leftmost first among equals, until no pair is a token. Each resulting piece is then
 * resegmented into tokens by undoing merges, with bytes ({@code <0xNN>}) for what is not in the
 * vocabulary.
 */
final class SentencePieceTokenizer extends VocabTokenizer {

    private static final String SPACE = "\u2581";

    SentencePieceTokenizer(Vocabulary vocab) {
        super(vocab);
        cachePieces();
    }

    @Override
    void encodeText(String fragment, boolean afterSpecial, IntList out) {
        String text = (vocab.addSpacePrefix && afterSpecial ? " " : "") + fragment;
        new Session(text.replace(" ", SPACE)).tokenize(out);
    }

    /** One tokenization: symbols as a linked list over the text, and the queue of candidate merges. */
    private final class Session {
        private final String text;
        private final int[] start, length, prev, next;
        private final PriorityQueue<long[]> queue;
        /** The merge that produced each text, so that unknown pieces can be split back (rev_merge). */
        private final Map<String, int[]> merges = new HashMap<>();

        Session(String text) {
            this.text = text;
            int n = text.codePointCount(0, text.length());
            start = new int[n]; length = new int[n]; prev = new int[n]; next = new int[n];
            for (int i = 0, off = 0; i < n; i++) {
                int len = Character.charCount(text.codePointAt(off));
                start[i] = off; length[i] = len; prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1;
                off += len;
            }
            // entries: {score bits, left, right, size}; highest score first, then leftmost
            queue = new PriorityQueue<>(Math.max(1, n), (a, b) -> {
                int c = Float.compare(Float.intBitsToFloat((int) b[0]), Float.intBitsToFloat((int) a[0]));
                return c != 0 ? c : Long.compare(a[1], b[1]);
            });
        }

        void tokenize(IntList out) {
            int n = start.length;
            if (n == 0) return;
            for (int i = 1; i < n; i++) tryAddBigram(i - 1, i);
            while (!queue.isEmpty()) {
                long[] bigram = queue.poll();
                int left = (int) bigram[1], right = (int) bigram[2];
                // skip a merge made stale by an earlier one (either side changed since it was queued)
                if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram[3]) continue;
                length[left] += length[right];
                length[right] = 0;
                next[left] = next[right];
                if (next[right] >= 0) prev[next[right]] = left;
                tryAddBigram(prev[left], left);
                tryAddBigram(left, next[left]);
            }
            for (int i = 0; i != -1; i = next[i]) resegment(i, out);
        }

        private void tryAddBigram(int left, int right) {
            if (left == -1 || right == -1) return;
            String piece = text.substring(start[left], start[left] + length[left] + length[right]);
            int id = vocab.id(piece);
            if (id < 0) return;
            queue.add(new long[] {Float.floatToIntBits(vocab.scores[id]) & 0xFFFFFFFFL, left, right, piece.length()});
            merges.put(piece, new int[] {left, right});
        }

        private void resegment(int symbol, IntList out) {
            String piece = text.substring(start[symbol], start[symbol] + length[symbol]);
            int id = vocab.id(piece);
            if (id >= 0) {
                out.add(id);
                return;
            }
            int[] merge = merges.get(piece);
            if (merge == null) {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) out.add(byteToken(b));
                return;
            }
            resegment(merge[0], out);
            resegment(merge[1], out);
        }
    }

    /** The token of one byte: {@code <0xNN>}, or the byte as a one-character piece (llama_vocab::byte_to_token). */
    private int byteToken(byte b) {
        int id = vocab.id(String.format("<0x%02X>", b & 0xFF));
        if (id >= 0) return id;
        if (b >= 0) {
            id = vocab.id(String.valueOf((char) b));
            if (id >= 0) return id;
        }
        throw new TokenizerException("the vocabulary has no token for byte 0x" + String.format("%02X", b & 0xFF) + " (no byte fallback)");
    }

    @Override
    byte[] pieceBytes(int id) {
        byte[] special = specialOrPiece(id);
        if (special != null) return special;
        String piece = vocab.pieces[id];
        if (vocab.has(id, Vocabulary.ATTR_NORMAL)) return piece.replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
        return new byte[] {hexByte(piece)};
    }
}
