package dev.pcwmesh.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns generated ids into text as they arrive. A character can be spread over several tokens
 * (byte tokens {@code <0xE2>} {@code <0x96>} {@code <0x81>}, or BPE pieces that end mid-character),
 * so bytes are held back until the character they begin is complete; bytes that can never form a
 * character come out as U+FFFD.
 *
 * <p>Each token contributes exactly its {@link Tokenizer#tokenBytes} (special tokens as their
 * text): unlike {@link Tokenizer#decode}, no leading space is dropped and no spaces are cleaned
 * up, since a stream continues a prompt rather than starting a text. Not thread-safe: one per stream.
 */
public final class StreamingDecoder {

    private final Tokenizer tokenizer;
    private byte[] pending = new byte[0];

    public StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text this token completes; {@code ""} while a multi-byte character is still incomplete. */
    public String push(int id) {
        byte[] add = tokenizer instanceof VocabTokenizer v ? v.sharedBytes(id) : tokenizer.tokenBytes(id);
        byte[] buf = Arrays.copyOf(pending, pending.length + add.length);
        System.arraycopy(add, 0, buf, pending.length, add.length);
        int complete = completePrefix(buf);
        pending = Arrays.copyOfRange(buf, complete, buf.length);
        return decode(buf, complete);
    }

    /** Whatever is still held back, with an incomplete character as U+FFFD; the decoder is then empty. */
    public String flush() {
        String rest = decode(pending, pending.length);
        pending = new byte[0];
        return rest;
    }

    /**
     * The length of the longest prefix that ends on a character boundary, keeping back only a
     * final sequence that is a valid, unfinished start of a character.
     */
    static int completePrefix(byte[] b) {
        int i = 0;
        while (i < b.length) {
            int lead = b[i] & 0xFF;
            int need = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
            if (need <= 1) { i++; continue; } // ASCII, or a byte that starts nothing (becomes U+FFFD)
            int have = 1;
            while (have < need && i + have < b.length && continues(lead, have, b[i + have] & 0xFF)) have++;
            if (have == need) { i += need; continue; }
            if (i + have == b.length) return i; // a valid start, cut off by the end: wait for more
            i++;                                // broken: the decoder will replace it
        }
        return b.length;
    }

    /** Whether {@code c} may be byte {@code k} of a sequence led by {@code lead} (RFC 3629 ranges). */
    private static boolean continues(int lead, int k, int c) {
        if (k == 1) {
            if (lead == 0xE0) return c >= 0xA0 && c <= 0xBF;
            if (lead == 0xED) return c >= 0x80 && c <= 0x9F;
            if (lead == 0xF0) return c >= 0x90 && c <= 0xBF;
            if (lead == 0xF4) return c >= 0x80 && c <= 0x8F;
        }
        return c >= 0x80 && c <= 0xBF;
    }

    private static String decode(byte[] b, int length) {
        if (length == 0) return "";
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(b, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("UTF-8 decoding with replacement cannot fail", e);
        }
    }
}
