package dev.pcwmesh.runtime.kv;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The byte layout of a {@link KvSegment}, for transfer between services and spilling to disk.
 * All numbers little-endian.
 *
 * <pre>
 * offset  size        field
 * 0       4           magic "PCWK"
 * 4       2           format version, currently 1
 * 6       1           payload type: 1 = IEEE f16, 2 = bf16 (the top half of an f32, rounded to nearest even)
 * 7       1           reserved, 0
 * 8       4           layers L
 * 12      4           kvDim D (floats per token per layer, for keys and for values)
 * 16      4           tokens N
 * 20      var         four strings, each a u16 byte length then UTF-8: id, model fingerprint,
 *                     RoPE settings, prefix id (length 0 when there is no prefix)
 * ...     4N          token ids, int32
 * ...     4N          positions, int32
 * ...     L*2*N*D*2   per layer: the N*D keys (before rotation), then the N*D values, 2 bytes each
 * end-4   4           CRC-32C of every byte before it
 * </pre>
 *
 * Decoding checks magic, version, payload type, sizes and the checksum, and says which failed.
 */
public final class KvSegmentCodec {

    /** How keys and values are stored. */
    public enum Payload {
        F16(1), BF16(2);

        final int code;

        Payload(int code) { this.code = code; }

        static Payload of(int code) {
            for (Payload p : values()) if (p.code == code) return p;
            throw new KvFormatException("unknown payload type " + code + " (1 = f16, 2 = bf16)");
        }
    }

    /** A byte stream that is not a valid KV segment; the message says what is wrong. */
    public static final class KvFormatException extends RuntimeException {
        public KvFormatException(String message) { super(message); }
    }

    public static final int MAGIC = 0x4B574350; // "PCWK" as a little-endian int
    public static final int VERSION = 1;
    private static final int MAX_LAYERS = 4096;
    private static final int MAX_KV_DIM = 1 << 16;
    private static final int MAX_TOKENS = 1 << 22;

    private KvSegmentCodec() {}

    public static byte[] toBytes(KvSegment s, Payload payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(s, payload, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static KvSegment fromBytes(byte[] bytes) {
        try {
            return read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void write(KvSegment s, Payload payload, OutputStream out) throws IOException {
        CRC32C crc = new CRC32C();
        int n = s.length(), d = s.kvDim();
        ByteBuffer head = le(20);
        head.putInt(MAGIC).putShort((short) VERSION).put((byte) payload.code).put((byte) 0)
                .putInt(s.layers()).putInt(d).putInt(n);
        emit(head, out, crc);
        for (String str : new String[]{s.id(), s.modelFingerprint(), s.ropeSettings(), s.prefixId() == null ? "" : s.prefixId()}) {
            byte[] b = str.getBytes(StandardCharsets.UTF_8);
            if (b.length > 0xFFFF) throw new IllegalArgumentException("string too long for the segment header: " + str.length());
            emit(le(2 + b.length).putShort((short) b.length).put(b), out, crc);
        }
        ByteBuffer ids = le(8 * n);
        for (int t : s.tokens()) ids.putInt(t);
        for (int p : s.positions()) ids.putInt(p);
        emit(ids, out, crc);
        ByteBuffer rows = le(2 * n * d);
        for (int l = 0; l < s.layers(); l++) {
            for (float[] a : new float[][]{s.keys()[l], s.values()[l]}) {
                rows.clear();
                for (float f : a) rows.putShort(payload == Payload.F16 ? Float.floatToFloat16(f) : toBf16(f));
                emit(rows, out, crc);
            }
        }
        ByteBuffer tail = le(4).putInt((int) crc.getValue());
        out.write(tail.array());
    }

    public static KvSegment read(InputStream input) throws IOException {
        CRC32C crc = new CRC32C();
        DataInputStream in = new DataInputStream(input);
        ByteBuffer head = take(in, 20, crc, "header");
        if (head.getInt() != MAGIC) throw new KvFormatException("bad magic: not a PCW KV segment");
        int version = Short.toUnsignedInt(head.getShort());
        if (version != VERSION) throw new KvFormatException("unsupported KV segment format version " + version + " (this runtime reads " + VERSION + ")");
        Payload payload = Payload.of(head.get());
        head.get();
        int layers = head.getInt(), d = head.getInt(), n = head.getInt();
        if (layers <= 0 || layers > MAX_LAYERS || d <= 0 || d > MAX_KV_DIM || n < 0 || n > MAX_TOKENS) {
            throw new KvFormatException("impossible segment shape: " + layers + " layers, kvDim " + d + ", " + n + " tokens");
        }
        String[] strings = new String[4];
        for (int i = 0; i < 4; i++) {
            int len = Short.toUnsignedInt(take(in, 2, crc, "string length").getShort());
            strings[i] = new String(take(in, len, crc, "header string").array(), StandardCharsets.UTF_8);
        }
        ByteBuffer ids = take(in, 8L * n, crc, "token ids and positions");
        int[] tokens = new int[n], positions = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = ids.getInt();
        for (int i = 0; i < n; i++) positions[i] = ids.getInt();
        float[][] keys = new float[layers][], values = new float[layers][];
        for (int l = 0; l < layers; l++) {
            keys[l] = floats(take(in, 2L * n * d, crc, "keys of layer " + l), n * d, payload);
            values[l] = floats(take(in, 2L * n * d, crc, "values of layer " + l), n * d, payload);
        }
        int expected = (int) crc.getValue();
        int stored = take(in, 4, null, "checksum").getInt();
        if (stored != expected) throw new KvFormatException("checksum mismatch: the segment bytes are corrupted");
        return new KvSegment(strings[0], strings[1], strings[2], strings[3].isEmpty() ? null : strings[3], d, tokens, positions, keys, values);
    }

    private static float[] floats(ByteBuffer b, int count, Payload payload) {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
            short h = b.getShort();
            f[i] = payload == Payload.F16 ? Float.float16ToFloat(h) : Float.intBitsToFloat((h & 0xFFFF) << 16);
        }
        return f;
    }

    /** f32 to bf16 with round-to-nearest-even; NaN stays NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void emit(ByteBuffer b, OutputStream out, CRC32C crc) throws IOException {
        crc.update(b.array(), 0, b.position());
        out.write(b.array(), 0, b.position());
    }

    private static ByteBuffer take(DataInputStream in, long size, CRC32C crc, String what) throws IOException {
        if (size > Integer.MAX_VALUE - 8) throw new KvFormatException(what + " of " + size + " bytes is too large for one segment");
        byte[] b = new byte[(int) size];
        try {
            in.readFully(b);
        } catch (EOFException e) {
            throw new KvFormatException("truncated segment: stream ended while reading " + what);
        }
        if (crc != null) crc.update(b);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
