package dev.pcwmesh.runtime.gguf;

import dev.pcwmesh.runtime.kernel.TypeKernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a GGUF version 3 file: metadata in insertion order, then tensor infos, then the data
 * section with every tensor aligned to {@code general.alignment} (default 32).
 *
 * <p>Tensor data is streamed to disk tensor by tensor, in chunks of whole rows encoded through the
 * tensor type's {@link TypeKernel}; no buffer ever holds the whole file, so files larger than 2 GB
 * work. Tensors can be given as a float array, as a {@link FloatSource} that produces values on
 * demand (random weights for a large model without holding them), or as raw stored bytes.
 *
 * <p>The file is written to a temporary sibling and moved into place when complete, so a failed
 * write never leaves a half-written file under the requested name.
 */
public final class GgufWriter {

    /** Produces the values of a tensor in order: called with increasing, contiguous ranges. */
    @FunctionalInterface
    public interface FloatSource {
        /** Fills {@code dst[0, n)} with the values of elements {@code [firstElement, firstElement+n)}. */
        void fill(long firstElement, float[] dst, int n);
    }

    /** Target bytes of one encoded chunk while streaming tensor data. */
    private static final long DEFAULT_CHUNK_BYTES = 8L << 20;

    private final long chunkBytes;

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    private sealed interface Data permits FloatData, RawData {}
    private record FloatData(FloatSource source) implements Data {}
    private record RawData(MemorySegment bytes) implements Data {}
    private record PendingTensor(String name, GgmlType type, long[] shape, long elements, long bytes, Data data) {}

    public GgufWriter() { this(DEFAULT_CHUNK_BYTES); }

    /** With a chosen chunk size (tests use a tiny one to exercise chunking). */
    GgufWriter(long chunkBytes) {
        if (chunkBytes <= 0) throw new IllegalArgumentException("chunk bytes " + chunkBytes);
        this.chunkBytes = chunkBytes;
    }

    // ---------------------------------------------------------------- metadata

    /** Sets a metadata value (replacing an earlier one of the same key, which keeps its position). */
    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value of " + key);
        validate(key, value);
        if (key.equals("general.alignment")) {
            long a = alignmentOf(value);
            if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
                throw new GgufException("general.alignment must be a power of two, got " + a);
            }
        }
        metadata.put(key, value);
        return this;
    }

    /** Copies every entry of {@code values}, in their order. */
    public GgufWriter putAll(Map<String, GgufValue> values) {
        values.forEach(this::put);
        return this;
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufValue.of(v)); }
    public GgufWriter putUint8(String key, int v) { return put(key, new GgufValue(GgufValueType.UINT8, null, v & 0xFF)); }
    public GgufWriter putInt8(String key, int v) { return put(key, new GgufValue(GgufValueType.INT8, null, (int) (byte) v)); }
    public GgufWriter putUint16(String key, int v) { return put(key, new GgufValue(GgufValueType.UINT16, null, v & 0xFFFF)); }
    public GgufWriter putInt16(String key, int v) { return put(key, new GgufValue(GgufValueType.INT16, null, (int) (short) v)); }
    public GgufWriter putUint32(String key, long v) { return put(key, GgufValue.ofUint32(v)); }
    public GgufWriter putInt32(String key, int v) { return put(key, GgufValue.ofInt32(v)); }
    public GgufWriter putUint64(String key, long v) { return put(key, new GgufValue(GgufValueType.UINT64, null, v)); }
    public GgufWriter putInt64(String key, long v) { return put(key, new GgufValue(GgufValueType.INT64, null, v)); }
    public GgufWriter putFloat32(String key, float v) { return put(key, GgufValue.ofFloat32(v)); }
    public GgufWriter putFloat64(String key, double v) { return put(key, new GgufValue(GgufValueType.FLOAT64, null, v)); }
    public GgufWriter putBool(String key, boolean v) { return put(key, GgufValue.ofBool(v)); }
    public GgufWriter putStrings(String key, String[] v) { return put(key, GgufValue.ofStrings(v)); }
    public GgufWriter putFloats(String key, float[] v) { return put(key, GgufValue.ofFloats(v)); }
    public GgufWriter putInt32s(String key, int[] v) { return put(key, GgufValue.ofInt32s(v)); }

    /** Sets {@code general.alignment} (a power of two; GGUF's default is 32). */
    public GgufWriter alignment(int alignment) { return putUint32("general.alignment", alignment); }

    /** The alignment the data section will use. */
    public int alignment() {
        GgufValue v = metadata.get("general.alignment");
        return v == null ? GgufFile.DEFAULT_ALIGNMENT : (int) alignmentOf(v);
    }

    /** The metadata set so far, in order. */
    public Map<String, GgufValue> metadata() { return Collections.unmodifiableMap(metadata); }

    private static long alignmentOf(GgufValue v) {
        if (v.type() == GgufValueType.ARRAY || !(v.value() instanceof Number n) || v.type() == GgufValueType.FLOAT32 || v.type() == GgufValueType.FLOAT64) {
            throw new GgufException("general.alignment must be an integer, got " + v.type());
        }
        return n.longValue();
    }

    // ---------------------------------------------------------------- tensors

    /** Adds a tensor whose values are encoded into {@code type} when the file is written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, float[] values) {
        long elements = checkShape(name, type, shape);
        if (values.length != elements) {
            throw new GgufException("tensor " + name + " has shape " + Arrays.toString(shape) + " (" + elements
                    + " values) but " + values.length + " values were given");
        }
        return add(name, type, shape, elements, new FloatData((first, dst, n) -> System.arraycopy(values, Math.toIntExact(first), dst, 0, n)));
    }

    /** Adds a tensor whose values are produced by {@code source}, in order, while the file is written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, FloatSource source) {
        long elements = checkShape(name, type, shape);
        return add(name, type, shape, elements, new FloatData(Objects.requireNonNull(source, "source")));
    }

    /** Adds a tensor of already-encoded bytes (for example copied from another GGUF file). */
    public GgufWriter addRawTensor(String name, GgmlType type, long[] shape, MemorySegment bytes) {
        long elements = checkShape(name, type, shape);
        long expected = type.bytesFor(elements);
        if (bytes.byteSize() != expected) {
            throw new GgufException("tensor " + name + " of type " + type + " and shape " + Arrays.toString(shape)
                    + " takes " + expected + " bytes but " + bytes.byteSize() + " were given");
        }
        return add(name, type, shape, elements, new RawData(bytes));
    }

    public int tensorCount() { return tensors.size(); }

    private GgufWriter add(String name, GgmlType type, long[] shape, long elements, Data data) {
        if (!tensorNames.add(name)) throw new GgufException("tensor " + name + " added twice");
        tensors.add(new PendingTensor(name, type, shape.clone(), elements, type.bytesFor(elements), data));
        return this;
    }

    private static long checkShape(String name, GgmlType type, long[] shape) {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(type, "type of " + name);
        if (shape == null || shape.length < 1 || shape.length > 4) {
            throw new GgufException("tensor " + name + " must have 1 to 4 dimensions, got " + (shape == null ? "none" : shape.length));
        }
        long elements = 1;
        for (long d : shape) {
            if (d <= 0) throw new GgufException("tensor " + name + " has a dimension " + d + " in " + Arrays.toString(shape));
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new GgufException("tensor " + name + " of type " + type + " has rows of " + shape[0]
                    + " values, not a multiple of the block size " + type.blockSize());
        }
        return elements;
    }

    // ---------------------------------------------------------------- writing

    /** Writes the file. The writer can be written again (to another path) afterwards. */
    public void write(Path path) {
        int alignment = alignment();
        Path dir = path.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            if (dir != null) Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, path.getFileName().toString(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                // Header, metadata and tensor infos: small enough for one heap buffer.
                LeBuffer head = new LeBuffer();
                head.u32(GgufFile.MAGIC);
                head.u32(3);
                head.u64(tensors.size());
                head.u64(metadata.size());
                for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
                    head.string(e.getKey());
                    head.u32(e.getValue().type().id());
                    writeValue(head, e.getValue(), e.getKey());
                }
                long offset = 0;
                long[] offsets = new long[tensors.size()];
                for (int i = 0; i < tensors.size(); i++) {
                    PendingTensor t = tensors.get(i);
                    offset = GgufFile.align(offset, alignment);
                    offsets[i] = offset;
                    head.string(t.name);
                    head.u32(t.shape.length);
                    for (long d : t.shape) head.u64(d);
                    head.u32(t.type.id());
                    head.u64(offset);
                    offset += t.bytes;
                }
                head.pad(alignment);
                writeFully(ch, ByteBuffer.wrap(head.array(), 0, head.size()));
                long dataOffset = ch.position();

                for (int i = 0; i < tensors.size(); i++) {
                    PendingTensor t = tensors.get(i);
                    long start = dataOffset + offsets[i];
                    if (ch.position() < start) writeFully(ch, ByteBuffer.allocate(Math.toIntExact(start - ch.position())));
                    switch (t.data) {
                        case RawData r -> writeRaw(ch, r.bytes);
                        case FloatData f -> writeEncoded(ch, t, f.source);
                    }
                }
                ch.force(false);
            }
            readableByAll(tmp);
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try { Files.deleteIfExists(tmp); } catch (IOException ignored) { /* best effort */ }
            }
        }
    }

    private void writeRaw(FileChannel ch, MemorySegment bytes) throws IOException {
        for (long pos = 0; pos < bytes.byteSize(); pos += chunkBytes) {
            long n = Math.min(chunkBytes, bytes.byteSize() - pos);
            writeFully(ch, bytes.asSlice(pos, n).asByteBuffer());
        }
    }

    private void writeEncoded(FileChannel ch, PendingTensor t, FloatSource source) throws IOException {
        TypeKernel kernel = TypeKernel.of(t.type);
        long rowLength = t.shape[0];
        long rowBytes = t.type.bytesFor(rowLength);
        long rows = t.elements / rowLength;
        // Whole rows per chunk; at least one row, and the floats for the chunk must fit an array.
        long rowsPerChunk = Math.max(1, Math.min(chunkBytes / rowBytes, (1L << 24) / rowLength));
        rowsPerChunk = Math.min(rowsPerChunk, rows);
        int maxValues = Math.toIntExact(rowsPerChunk * rowLength);
        float[] values = new float[maxValues];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(rowsPerChunk * rowBytes, 64);
            for (long row = 0; row < rows; row += rowsPerChunk) {
                long nRows = Math.min(rowsPerChunk, rows - row);
                int n = Math.toIntExact(nRows * rowLength);
                source.fill(row * rowLength, values, n);
                MemorySegment dst = chunk.asSlice(0, nRows * rowBytes);
                kernel.quantize(values, 0, n, dst, 0);
                writeFully(ch, dst.asByteBuffer());
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static void writeValue(LeBuffer out, GgufValue v, String key) {
        Object o = v.value();
        switch (v.type()) {
            case UINT8, INT8, BOOL -> out.u8(v.type() == GgufValueType.BOOL ? ((Boolean) o ? 1 : 0) : ((Number) o).intValue());
            case UINT16, INT16 -> out.u16(((Number) o).intValue());
            case UINT32, INT32 -> out.u32(((Number) o).intValue());
            case UINT64, INT64 -> out.u64(((Number) o).longValue());
            case FLOAT32 -> out.u32(Float.floatToRawIntBits(((Number) o).floatValue()));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits(((Number) o).doubleValue()));
            case STRING -> out.string((String) o);
            case ARRAY -> writeArray(out, v, key);
        }
    }

    /** An array without its own type tag: element type, count, elements. */
    private static void writeArray(LeBuffer out, GgufValue v, String key) {
        out.u32(v.elementType().id());
        out.u64(v.length());
        switch (v.value()) {
            case byte[] a -> { for (byte b : a) out.u8(b); }
            case short[] a -> { for (short s : a) out.u16(s); }
            case int[] a -> { for (int x : a) out.u32(x); }
            case long[] a -> { for (long x : a) out.u64(x); }
            case float[] a -> { for (float x : a) out.u32(Float.floatToRawIntBits(x)); }
            case double[] a -> { for (double x : a) out.u64(Double.doubleToRawLongBits(x)); }
            case boolean[] a -> { for (boolean x : a) out.u8(x ? 1 : 0); }
            case String[] a -> { for (String s : a) out.string(s); }
            case List<?> a -> { for (Object e : a) writeArray(out, (GgufValue) e, key); }
            default -> throw new GgufException("key " + key + ": cannot write array value " + v.value().getClass());
        }
    }

    /** Checks that the Java value matches the stored type, so that a bad value fails at put, not at write. */
    private static void validate(String key, GgufValue v) {
        Object o = v.value();
        boolean ok = switch (v.type()) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64, FLOAT32, FLOAT64 -> o instanceof Number;
            case BOOL -> o instanceof Boolean;
            case STRING -> o instanceof String;
            case ARRAY -> {
                GgufValueType et = v.elementType();
                if (et == null) yield false;
                yield switch (et) {
                    case UINT8, INT8 -> o instanceof byte[];
                    case UINT16, INT16 -> o instanceof short[];
                    case UINT32, INT32 -> o instanceof int[];
                    case UINT64, INT64 -> o instanceof long[];
                    case FLOAT32 -> o instanceof float[];
                    case FLOAT64 -> o instanceof double[];
                    case BOOL -> o instanceof boolean[];
                    case STRING -> o instanceof String[] a && Arrays.stream(a).allMatch(Objects::nonNull);
                    case ARRAY -> {
                        if (!(o instanceof List<?> list)) yield false;
                        for (Object e : list) {
                            if (!(e instanceof GgufValue g) || g.type() != GgufValueType.ARRAY) yield false;
                            validate(key, g);
                        }
                        yield true;
                    }
                };
            }
        };
        if (!ok) {
            String what = v.type() == GgufValueType.ARRAY ? "ARRAY of " + v.elementType() : v.type().toString();
            throw new GgufException("key " + key + ": a " + what + " value cannot be "
                    + (o == null ? "null" : o.getClass().getSimpleName()) + " (see GgufValue for the Java types)");
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class LeBuffer extends ByteArrayOutputStream {
        LeBuffer() { super(1 << 16); }
        byte[] array() { return buf; }
        void u8(int v) { write(v); }
        void u16(int v) { write(v); write(v >>> 8); }
        void u32(int v) { write(v); write(v >>> 8); write(v >>> 16); write(v >>> 24); }
        void u64(long v) { u32((int) v); u32((int) (v >>> 32)); }
        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }
        void pad(int alignment) { while (count % alignment != 0) write(0); }
    }

    /** Temporary files are created owner-only; a model file is data others may read (rw-r--r--). */
    private static void readableByAll(Path file) throws IOException {
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        }
    }
}
