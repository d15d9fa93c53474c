package dev.pcwmesh.runtime.gguf;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Corrupt and truncated GGUF files: each must give a {@link GgufException} whose message names
 * the problem, never an IndexOutOfBoundsException, ArithmeticException, ClassCastException,
 * OutOfMemoryError or StackOverflowError.
 */
class GgufFileCorruptTest {

    @TempDir
    Path dir;

    /** A valid file: two metadata keys, two tensors. */
    private byte[] good;
    /** Where the first tensor info (its name's length field) starts. */
    private int tensorInfoStart;
    private long dataOffset;

    @BeforeEach
    void writeGoodFile() throws IOException {
        Path p = dir.resolve("good.gguf");
        new GgufWriter()
                .putString("general.architecture", "llama")
                .putStrings("tokenizer.ggml.tokens", new String[]{"<unk>", "<s>", "</s>", "a"})
                .addTensor("alpha", GgmlType.F32, new long[]{8, 4}, new float[32])
                .addTensor("beta", GgmlType.F32, new long[]{16}, new float[16])
                .write(p);
        good = Files.readAllBytes(p);
        tensorInfoStart = indexOf(good, "alpha".getBytes(StandardCharsets.UTF_8)) - 8;
        try (GgufFile f = GgufFile.open(p)) {
            dataOffset = f.dataOffset();
        }
        assertTrue(tensorInfoStart > 24 && dataOffset > tensorInfoStart);
    }

    @Test
    void truncatedAtEveryRegionNamesTheProblem() {
        // header: inside the magic, the version, the tensor count, the metadata count
        assertOpenFails(Arrays.copyOf(good, 0), "bad magic");
        assertOpenFails(Arrays.copyOf(good, 2), "bad magic");
        assertOpenFails(Arrays.copyOf(good, 6), "truncated");
        assertOpenFails(Arrays.copyOf(good, 12), "truncated");
        assertOpenFails(Arrays.copyOf(good, 20), "truncated");
        // metadata: inside the first key's length, inside a key, inside a string value, inside an array
        assertOpenFails(Arrays.copyOf(good, 27), "truncated");
        assertOpenFails(Arrays.copyOf(good, 36), "truncated");
        assertOpenFails(Arrays.copyOf(good, 70), "truncated");
        assertOpenFails(Arrays.copyOf(good, tensorInfoStart - 3), "truncated");
        // tensor infos: inside the name, the dimensions, the type, the offset, the second tensor
        for (int cut : new int[]{tensorInfoStart + 4, tensorInfoStart + 10, tensorInfoStart + 20, tensorInfoStart + 34,
                tensorInfoStart + 40, tensorInfoStart + 50}) {
            assertOpenFails(Arrays.copyOf(good, cut), "truncated");
        }
        // tensor data: inside the first tensor, inside the last, one byte short
        for (long cut : new long[]{dataOffset, dataOffset + 17, good.length - 30, good.length - 1}) {
            assertOpenFails(Arrays.copyOf(good, (int) cut), "beyond the end");
        }
    }

    @Test
    void everyTruncationIsAGgufException() throws IOException {
        // Exhaustive over this small file: any cut gives a GgufException (the message checks are above).
        Path p = dir.resolve("cut.gguf");
        for (int cut = 0; cut < good.length; cut++) {
            Files.write(p, Arrays.copyOf(good, cut));
            int at = cut;
            GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p).close(), () -> "cut at " + at);
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("beyond the end") || e.getMessage().contains("bad magic"),
                    "cut at " + cut + ": " + e.getMessage());
        }
    }

    @Test
    void wrongMagic() {
        assertOpenFails(patched(b -> b.put(0, (byte) 'X')), "bad magic");
        assertOpenFails("not a model at all, just some text".getBytes(StandardCharsets.UTF_8), "bad magic");
    }

    @Test
    void unsupportedVersion() {
        assertOpenFails(patched(b -> b.putInt(4, 4)), "unsupported GGUF version 4");
        assertOpenFails(patched(b -> b.putInt(4, 1)), "unsupported GGUF version 1");
        GgufException bigEndian = assertOpenFails(patched(b -> b.putInt(4, Integer.reverseBytes(3))), "unsupported GGUF version");
        assertTrue(bigEndian.getMessage().contains("big-endian"), bigEndian.getMessage());
    }

    @Test
    void tensorBeyondTheEnd() {
        int offsetField = tensorInfoStart + 8 + 5 + 4 + 16 + 4; // name length, "alpha", n_dims, 2 dims, type
        assertOpenFails(patched(b -> b.putLong(offsetField, 1L << 20)), "beyond the end");
        assertOpenFails(patched(b -> b.putLong(offsetField, -64L)), "beyond the end");
        // a dimension so large that the tensor cannot fit
        assertOpenFails(patched(b -> b.putLong(tensorInfoStart + 8 + 5 + 4 + 8, 1L << 40)), "beyond the end");
    }

    @Test
    void shapeWhoseElementCountOverflows() {
        int dims = tensorInfoStart + 8 + 5 + 4;
        assertOpenFails(patched(b -> b.putLong(dims, 1L << 40).putLong(dims + 8, 1L << 40)), "too many elements");
    }

    @Test
    void unknownTensorType() {
        int typeField = tensorInfoStart + 8 + 5 + 4 + 16;
        GgufException e = assertOpenFails(patched(b -> b.putInt(typeField, 99)), "unknown tensor type");
        assertTrue(e.getMessage().contains("99") && e.getMessage().contains("alpha"), e.getMessage());
    }

    @Test
    void unknownMetadataValueType() {
        int typeField = 24 + 8 + "general.architecture".length();
        assertOpenFails(patched(b -> b.putInt(typeField, 77)), "unknown metadata value type id 77");
    }

    @Test
    void missingKeyAndMissingTensor() throws IOException {
        Path p = write(good);
        try (GgufFile f = GgufFile.open(p)) {
            assertTrue(assertThrows(GgufException.class, () -> f.getString("nope")).getMessage().contains("missing key nope"));
            assertTrue(assertThrows(GgufException.class, () -> f.getInt("nope")).getMessage().contains("missing key nope"));
            assertTrue(assertThrows(GgufException.class, () -> f.tensor("gamma")).getMessage().contains("missing tensor gamma"));
            assertTrue(assertThrows(GgufException.class, () -> f.getInt("general.architecture")).getMessage().contains("expected Number"));
        }
    }

    @Test
    void impossibleCounts() {
        assertOpenFails(patched(b -> b.putLong(8, 1L << 62)), "tensor count 4611686018427387904 is impossible");
        assertOpenFails(patched(b -> b.putLong(16, -1L)), "metadata count 18446744073709551615 is impossible");
        int arrayLength = indexOf(good, "tokenizer.ggml.tokens".getBytes(StandardCharsets.UTF_8)) + "tokenizer.ggml.tokens".length() + 8;
        assertOpenFails(patched(b -> b.putLong(arrayLength, 1L << 50)), "is impossible");
        // A string length beyond the file.
        assertOpenFails(patched(b -> b.putLong(24, 1L << 40)), "truncated");
        assertOpenFails(patched(b -> b.putLong(24, -2L)), "truncated");
        // The dimension count.
        assertOpenFails(patched(b -> b.putInt(tensorInfoStart + 8 + 5, 7)), "7 dimensions");
    }

    @Test
    void arrayOfArraysLongerThanTheFileCanHold() {
        // An array of arrays claiming as many elements as the file has bytes: each needs 12 bytes at
        // least, so this must be refused before anything is allocated for it.
        Header h = new Header(0, 1);
        h.string("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.ARRAY.id()).u64(4000);
        byte[] bytes = Arrays.copyOf(h.bytes(), 4096);
        assertOpenFails(bytes, "truncated");
    }

    @Test
    void arraysNestedTooDeeply() {
        int depth = 100_000;
        Header h = new Header(0, 1);
        h.string("deep").u32(GgufValueType.ARRAY.id());
        for (int i = 0; i < depth; i++) h.u32(GgufValueType.ARRAY.id()).u64(1);
        h.u32(GgufValueType.INT32.id()).u64(0);
        assertOpenFails(h.bytes(), "nested");
    }

    @Test
    void alignmentOfTheWrongTypeOrValue() {
        assertOpenFails(new Header(0, 1).string("general.alignment").u32(GgufValueType.STRING.id()).string("32").bytes(), "general.alignment");
        assertOpenFails(new Header(0, 1).string("general.alignment").u32(GgufValueType.UINT64.id()).u64(1L << 40).bytes(), "general.alignment");
        assertOpenFails(new Header(0, 1).string("general.alignment").u32(GgufValueType.UINT32.id()).u32(48).bytes(), "power of two");
    }

    @Test
    void countsThatFitAHugeFileButNotAJavaArray() throws IOException {
        // A sparse file of 3 GB (no disk space used): a string array and a byte array claiming more
        // elements than a Java array holds must be refused by message, not by an ArithmeticException.
        Path p = dir.resolve("huge.gguf");
        long size = 3L << 30;
        for (GgufValueType et : new GgufValueType[]{GgufValueType.STRING, GgufValueType.UINT8}) {
            byte[] head = new Header(0, 1).string("big").u32(GgufValueType.ARRAY.id()).u32(et.id()).u64((1L << 31) + 5).bytes();
            try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
                raf.setLength(0);
                raf.write(head);
                raf.setLength(size);
            }
            GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p).close(), et::toString);
            assertTrue(e.getMessage().contains("too long"), e.getMessage());
        }
        // An array of arrays whose length fits an int but not the file (12 bytes per element at least):
        // refused before a list of a billion entries is allocated.
        byte[] nested = new Header(0, 1).string("n").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.ARRAY.id()).u64(1_000_000_000L).bytes();
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(0);
            raf.write(nested);
            raf.setLength(size);
        }
        GgufException n = assertThrows(GgufException.class, () -> GgufFile.open(p).close());
        assertTrue(n.getMessage().contains("truncated"), n.getMessage());
        // A single string longer than a Java array.
        byte[] head = new Header(0, 1).string("s").u32(GgufValueType.STRING.id()).u64((1L << 31) + 5).bytes();
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(0);
            raf.write(head);
            raf.setLength(size);
        }
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().contains("too long"), e.getMessage());
    }

    @Test
    void missingFile() {
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(dir.resolve("absent.gguf")));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    // ---------------------------------------------------------------- helpers

    private GgufException assertOpenFails(byte[] bytes, String expected) {
        Path p;
        try {
            p = write(bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        Throwable t = assertThrows(Throwable.class, () -> GgufFile.open(p).close());
        if (!(t instanceof GgufException g)) {
            throw new AssertionError("expected a GgufException containing '" + expected + "' but got " + t, t);
        }
        assertTrue(g.getMessage().contains(expected), "expected '" + expected + "' in: " + g.getMessage());
        return g;
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "corrupt", ".gguf");
        Files.write(p, bytes);
        return p;
    }

    private byte[] patched(Consumer<ByteBuffer> patch) {
        byte[] copy = good.clone();
        patch.accept(ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
        return copy;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Hand-built header bytes. */
    private static final class Header {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        Header(long tensors, long kvs) { u32(GgufFile.MAGIC).u32(3).u64(tensors).u64(kvs); }

        Header u32(int v) { out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); return this; }
        Header u64(long v) { out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); return this; }
        Header string(String s) { byte[] b = s.getBytes(StandardCharsets.UTF_8); u64(b.length); out.writeBytes(b); return this; }
        byte[] bytes() { return out.toByteArray(); }
    }
}
