package dev.pcwmesh.runtime.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file (versions 2 and 3, little-endian), memory-mapped with the FFM API so that files
 * larger than 2 GB work and tensor bytes are never copied onto the Java heap.
 *
 * <p>Layout: magic {@code GGUF}, version, tensor count, metadata count; the metadata key/value
 * pairs; the tensor infos (name, dimensions, type, offset relative to the data section); padding
 * to {@code general.alignment} (default 32); the data section. Every read is bounds-checked: a
 * truncated or corrupt file gets a {@link GgufException} that says what is wrong and at which offset.
 */
public final class GgufFile implements AutoCloseable {

    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    public static final int DEFAULT_ALIGNMENT = 32;

    /** The longest array or string the reader accepts (a Java array's limit). */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;
    /** The deepest nesting of arrays of arrays the reader accepts (GGUF files in use nest at most once). */
    private static final int MAX_NESTING = 64;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensor> tensors;
    private final long dataOffset;
    private final int alignment;

    private GgufFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        Cursor in = new Cursor(file);
        if (file.byteSize() < 4 || in.u32("magic") != MAGIC) {
            throw error("bad magic: not a GGUF file (expected the bytes 'GGUF' at offset 0)");
        }
        this.version = in.u32("version");
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3 ? " (a big-endian file; only little-endian GGUF is supported)" : "";
            throw error("unsupported GGUF version " + Integer.toUnsignedString(version) + hint + "; versions 2 and 3 are supported");
        }
        long tensorCount = in.count("tensor count");
        long kvCount = in.count("metadata count");

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key #" + i);
            GgufValueType type = in.valueType("value type of " + key);
            kv.put(key, in.value(type, key));
        }
        this.metadata = Collections.unmodifiableMap(kv);

        GgufValue align = kv.get("general.alignment");
        if (align != null && !(align.value() instanceof Number && align.type() != GgufValueType.FLOAT32 && align.type() != GgufValueType.FLOAT64)) {
            throw error("general.alignment must be an integer, found " + align.type());
        }
        long alignValue = align == null ? DEFAULT_ALIGNMENT : ((Number) align.value()).longValue();
        if (alignValue <= 0 || alignValue > (1 << 30) || Long.bitCount(alignValue) != 1) {
            throw error("general.alignment must be a power of two, found " + alignValue);
        }
        this.alignment = (int) alignValue;

        record Info(String name, long[] shape, GgmlType type, long offset) {}
        List<Info> infos = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string("tensor name #" + i);
            int nDims = in.u32("dimension count of " + name);
            if (nDims < 1 || nDims > 4) throw error("tensor " + name + " has " + nDims + " dimensions; GGUF allows 1 to 4");
            long[] shape = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                shape[d] = in.u64("dimension " + d + " of " + name);
                if (shape[d] <= 0) throw error("tensor " + name + " has dimension " + d + " = " + shape[d]);
            }
            int typeId = in.u32("type of " + name);
            GgmlType type;
            try {
                type = GgmlType.fromId(typeId);
            } catch (GgufException e) {
                throw error("tensor " + name + ": unknown tensor type id " + typeId);
            }
            long offset = in.u64("data offset of " + name);
            infos.add(new Info(name, shape, type, offset));
        }
        this.dataOffset = align(in.position, alignment);

        Map<String, GgufTensor> ts = new LinkedHashMap<>();
        for (Info info : infos) {
            long elements = 1;
            try {
                for (long d : info.shape) elements = Math.multiplyExact(elements, d);
            } catch (ArithmeticException e) {
                throw error("tensor " + info.name + " has shape " + java.util.Arrays.toString(info.shape) + ": too many elements");
            }
            if (info.shape[0] % info.type.blockSize() != 0) {
                throw error("tensor " + info.name + " of type " + info.type + " has rows of " + info.shape[0]
                        + " values, not a multiple of the block size " + info.type.blockSize());
            }
            long bytes = info.type.bytesFor(elements);
            long start = dataOffset + info.offset;
            if (info.offset < 0 || start < dataOffset || start + bytes > file.byteSize() || start + bytes < start) {
                throw error("tensor " + info.name + " (" + bytes + " bytes at data offset " + Long.toUnsignedString(info.offset)
                        + ") lies outside the file of " + file.byteSize() + " bytes: tensor data beyond the end (truncated file?)");
            }
            if (ts.put(info.name, new GgufTensor(info.name, info.type, info.shape, start, file.asSlice(start, bytes))) != null) {
                throw error("tensor " + info.name + " appears twice");
            }
        }
        this.tensors = Collections.unmodifiableMap(ts);
    }

    /** Maps and parses a GGUF file. The mapping lives until {@link #close()}. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new GgufFile(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new GgufException("model file not found: " + path);
        } catch (IOException e) {
            arena.close();
            throw new GgufException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Whether the file starts with the GGUF magic (a cheap check before {@link #open}). */
    public static boolean looksLikeGguf(Path path) {
        try (var ch = FileChannel.open(path, StandardOpenOption.READ)) {
            var buf = java.nio.ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            return Files.size(path) >= 4 && ch.read(buf) == 4 && buf.getInt(0) == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() { return path; }
    public int version() { return version; }
    public int alignment() { return alignment; }
    /** Absolute file offset of the data section. */
    public long dataOffset() { return dataOffset; }
    /** The whole mapped file. */
    public MemorySegment segment() { return file; }
    public long byteSize() { return file.byteSize(); }

    /** All metadata, in file order. */
    public Map<String, GgufValue> metadata() { return metadata; }

    /** All tensors, in file order. */
    public Map<String, GgufTensor> tensors() { return tensors; }

    /** The tensor of this name, or a {@link GgufException} naming the missing tensor. */
    public GgufTensor tensor(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) throw error("missing tensor " + name);
        return t;
    }

    public Optional<GgufTensor> findTensor(String name) { return Optional.ofNullable(tensors.get(name)); }

    public boolean has(String key) { return metadata.containsKey(key); }

    /** The raw value of a key, or a {@link GgufException} naming the missing key. */
    public GgufValue value(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) throw error("missing key " + key);
        return v;
    }

    public String getString(String key) { return as(key, String.class); }

    public Optional<String> findString(String key) { return has(key) ? Optional.of(getString(key)) : Optional.empty(); }

    public long getLong(String key) { return as(key, Number.class).longValue(); }

    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw error("key " + key + " = " + v + " does not fit an int");
        return (int) v;
    }

    public int getInt(String key, int fallback) { return has(key) ? getInt(key) : fallback; }

    public float getFloat(String key) { return as(key, Number.class).floatValue(); }

    public float getFloat(String key, float fallback) { return has(key) ? getFloat(key) : fallback; }

    public boolean getBool(String key, boolean fallback) { return has(key) ? as(key, Boolean.class) : fallback; }

    public String[] getStringArray(String key) { return as(key, String[].class); }

    public float[] getFloatArray(String key) { return as(key, float[].class); }

    /** An integer array of any element width, widened to int. */
    public int[] getIntArray(String key) {
        Object v = value(key).value();
        return switch (v) {
            case int[] a -> a;
            case byte[] a -> { int[] r = new int[a.length]; for (int i = 0; i < a.length; i++) r[i] = a[i]; yield r; }
            case short[] a -> { int[] r = new int[a.length]; for (int i = 0; i < a.length; i++) r[i] = a[i]; yield r; }
            case long[] a -> { int[] r = new int[a.length]; for (int i = 0; i < a.length; i++) r[i] = Math.toIntExact(a[i]); yield r; }
            default -> throw error("key " + key + " is " + value(key).type() + ", not an integer array");
        };
    }

    private <T> T as(String key, Class<T> type) {
        GgufValue v = value(key);
        if (!type.isInstance(v.value())) {
            String stored = v.type() == GgufValueType.ARRAY ? "an array of " + v.elementType() : v.type().toString();
            throw error("key " + key + " is " + stored + ", expected " + type.getSimpleName());
        }
        return type.cast(v.value());
    }

    private GgufException error(String message) {
        return new GgufException(path.getFileName() + ": " + message);
    }

    @Override
    public void close() {
        arena.close();
    }

    static long align(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    /** A bounds-checked little-endian reader over the mapped file. */
    private final class Cursor {
        private final MemorySegment seg;
        private long position;

        Cursor(MemorySegment seg) { this.seg = seg; }

        /** The least bytes one array element of this type takes in the file. */
        private static long minimumBytes(GgufValueType t) {
            return switch (t) {
                case UINT8, INT8, BOOL -> 1;
                case UINT16, INT16 -> 2;
                case UINT32, INT32, FLOAT32 -> 4;
                case UINT64, INT64, FLOAT64, STRING -> 8;
                case ARRAY -> 12;
            };
        }

        private void need(long bytes, String what) {
            if (bytes < 0 || position + bytes > seg.byteSize() || position + bytes < position) {
                throw error("truncated file: reading " + what + " needs " + bytes + " bytes at offset " + position
                        + " but the file has " + seg.byteSize());
            }
        }

        int u8(String what) { need(1, what); return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, position++)); }
        int u16(String what) { need(2, what); int v = seg.get(U16, position); position += 2; return v; }
        int u32(String what) { need(4, what); int v = seg.get(U32, position); position += 4; return v; }
        long u64(String what) { need(8, what); long v = seg.get(U64, position); position += 8; return v; }
        float f32(String what) { need(4, what); float v = seg.get(F32, position); position += 4; return v; }
        double f64(String what) { need(8, what); double v = seg.get(F64, position); position += 8; return v; }

        long count(String what) {
            long n = u64(what);
            // Every counted item takes at least a few bytes, so a count beyond the file size is corruption.
            if (n < 0 || n > seg.byteSize()) throw error(what + " " + Long.toUnsignedString(n) + " is impossible for a file of " + seg.byteSize() + " bytes");
            return n;
        }

        GgufValueType valueType(String what) {
            int id = u32(what);
            try {
                return GgufValueType.fromId(id);
            } catch (GgufException e) {
                throw error(what + ": unknown metadata value type id " + id + " at offset " + (position - 4));
            }
        }

        String string(String what) {
            long len = u64("length of " + what);
            need(len, what);
            if (len > MAX_ARRAY) throw error(what + " of " + len + " bytes is too long to read");
            byte[] bytes = seg.asSlice(position, len).toArray(ValueLayout.JAVA_BYTE);
            position += len;
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPLACE)
                        .onUnmappableCharacter(CodingErrorAction.REPLACE)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw error(what + " is not valid UTF-8");
            }
        }

        GgufValue value(GgufValueType type, String key) {
            return switch (type) {
                case UINT8 -> new GgufValue(type, null, u8(key));
                case INT8 -> new GgufValue(type, null, (int) (byte) u8(key));
                case UINT16 -> new GgufValue(type, null, u16(key) & 0xFFFF);
                case INT16 -> new GgufValue(type, null, (int) (short) u16(key));
                case UINT32 -> new GgufValue(type, null, Integer.toUnsignedLong(u32(key)));
                case INT32 -> new GgufValue(type, null, u32(key));
                case UINT64, INT64 -> new GgufValue(type, null, u64(key));
                case FLOAT32 -> new GgufValue(type, null, f32(key));
                case FLOAT64 -> new GgufValue(type, null, f64(key));
                case BOOL -> new GgufValue(type, null, u8(key) != 0);
                case STRING -> new GgufValue(type, null, string(key));
                case ARRAY -> array(key, 0);
            };
        }

        private GgufValue array(String key, int depth) {
            if (depth > MAX_NESTING) throw error("array " + key + " is nested more than " + MAX_NESTING + " levels deep");
            GgufValueType et = valueType("element type of " + key);
            long n = count("length of array " + key);
            if (n > MAX_ARRAY) throw error("array " + key + " of " + n + " elements is too long to read");
            int len = (int) n;
            // Every element takes at least this many bytes: refuse an impossible length before allocating for it.
            need(n * minimumBytes(et), "array " + key + " of " + n + " " + et + " elements");
            Object v = switch (et) {
                case UINT8, INT8 -> { need(n, key); byte[] a = seg.asSlice(position, n).toArray(ValueLayout.JAVA_BYTE); position += n; yield a; }
                case UINT16, INT16 -> { need(2 * n, key); short[] a = seg.asSlice(position, 2 * n).toArray(U16); position += 2 * n; yield a; }
                case UINT32, INT32 -> { need(4 * n, key); int[] a = seg.asSlice(position, 4 * n).toArray(U32); position += 4 * n; yield a; }
                case UINT64, INT64 -> { need(8 * n, key); long[] a = seg.asSlice(position, 8 * n).toArray(U64); position += 8 * n; yield a; }
                case FLOAT32 -> { need(4 * n, key); float[] a = seg.asSlice(position, 4 * n).toArray(F32); position += 4 * n; yield a; }
                case FLOAT64 -> { need(8 * n, key); double[] a = seg.asSlice(position, 8 * n).toArray(F64); position += 8 * n; yield a; }
                case BOOL -> { need(n, key); boolean[] a = new boolean[len]; for (int i = 0; i < len; i++) a[i] = u8(key) != 0; yield a; }
                case STRING -> { String[] a = new String[len]; for (int i = 0; i < len; i++) a[i] = string(key + "[" + i + "]"); yield a; }
                case ARRAY -> { List<GgufValue> a = new ArrayList<>(len); for (int i = 0; i < len; i++) a.add(array(key + "[" + i + "]", depth + 1)); yield a; }
            };
            return new GgufValue(GgufValueType.ARRAY, et, v);
        }
    }
}
