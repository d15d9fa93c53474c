package dev.pcwmesh.runtime.gguf;

import dev.pcwmesh.runtime.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GgufWriterTest {

    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    @Test
    void everyScalarTypeRoundTrips() {
        GgufWriter w = new GgufWriter()
                .putUint8("u8", 200)
                .putInt8("i8", -5)
                .putUint16("u16", 60000)
                .putInt16("i16", -30000)
                .putUint32("u32", 4_000_000_000L)
                .putInt32("i32", -123456)
                .putUint64("u64", -1L)
                .putInt64("i64", Long.MIN_VALUE)
                .putFloat32("f32", 1.5e-5f)
                .putFloat64("f64", Math.PI)
                .putBool("yes", true)
                .putBool("no", false)
                .putString("s", "héllo ▁wörld 🙂")
                .putString("empty", "");
        Path p = dir.resolve("scalars.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(List.of("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "yes", "no", "s", "empty"),
                    List.copyOf(f.metadata().keySet()), "keys in insertion order");
            assertTyped(f, "u8", GgufValueType.UINT8, 200);
            assertTyped(f, "i8", GgufValueType.INT8, -5);
            assertTyped(f, "u16", GgufValueType.UINT16, 60000);
            assertTyped(f, "i16", GgufValueType.INT16, -30000);
            assertTyped(f, "u32", GgufValueType.UINT32, 4_000_000_000L);
            assertTyped(f, "i32", GgufValueType.INT32, -123456);
            assertTyped(f, "u64", GgufValueType.UINT64, -1L);
            assertTyped(f, "i64", GgufValueType.INT64, Long.MIN_VALUE);
            assertTyped(f, "f32", GgufValueType.FLOAT32, 1.5e-5f);
            assertTyped(f, "f64", GgufValueType.FLOAT64, Math.PI);
            assertTyped(f, "yes", GgufValueType.BOOL, true);
            assertTyped(f, "no", GgufValueType.BOOL, false);
            assertEquals("héllo ▁wörld 🙂", f.getString("s"));
            assertEquals("", f.getString("empty"));
            assertTrue(f.tensors().isEmpty());
        }
    }

    private static void assertTyped(GgufFile f, String key, GgufValueType type, Object value) {
        GgufValue v = f.value(key);
        assertEquals(type, v.type(), key);
        assertEquals(value, v.value(), key);
    }

    @Test
    void everyArrayElementTypeAndNestedArraysRoundTrip() {
        Map<String, GgufValue> values = new java.util.LinkedHashMap<>();
        values.put("a.u8", arr(GgufValueType.UINT8, new byte[]{0, 1, (byte) 255}));
        values.put("a.i8", arr(GgufValueType.INT8, new byte[]{-128, 0, 127}));
        values.put("a.u16", arr(GgufValueType.UINT16, new short[]{0, (short) 65535, 7}));
        values.put("a.i16", arr(GgufValueType.INT16, new short[]{-32768, 32767}));
        values.put("a.u32", arr(GgufValueType.UINT32, new int[]{0, -1, 42}));
        values.put("a.i32", arr(GgufValueType.INT32, new int[]{Integer.MIN_VALUE, 3, Integer.MAX_VALUE}));
        values.put("a.u64", arr(GgufValueType.UINT64, new long[]{-1L, 0}));
        values.put("a.i64", arr(GgufValueType.INT64, new long[]{Long.MIN_VALUE, Long.MAX_VALUE}));
        values.put("a.f32", arr(GgufValueType.FLOAT32, new float[]{0.5f, -0f, Float.NaN, Float.MAX_VALUE}));
        values.put("a.f64", arr(GgufValueType.FLOAT64, new double[]{Double.MIN_VALUE, -2.25}));
        values.put("a.bool", arr(GgufValueType.BOOL, new boolean[]{true, false, true}));
        values.put("a.str", arr(GgufValueType.STRING, new String[]{"a", "", "▁the", "<0x0A>"}));
        values.put("a.empty", arr(GgufValueType.INT32, new int[0]));
        GgufValue inner1 = arr(GgufValueType.INT32, new int[]{1, 2, 3});
        GgufValue inner2 = arr(GgufValueType.STRING, new String[]{"x", "y"});
        GgufValue innerNested = arr(GgufValueType.ARRAY, List.of(arr(GgufValueType.FLOAT32, new float[]{9f}), arr(GgufValueType.BOOL, new boolean[0])));
        values.put("a.nested", arr(GgufValueType.ARRAY, List.of(inner1, inner2, innerNested)));
        values.put("a.nested.empty", arr(GgufValueType.ARRAY, List.of()));

        Path p = dir.resolve("arrays.gguf");
        new GgufWriter().putAll(values).write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(values.keySet(), f.metadata().keySet());
            for (var e : values.entrySet()) {
                assertValueEquals(e.getValue(), f.value(e.getKey()), e.getKey());
            }
            assertArrayEquals(new int[]{1, 2, 3}, (int[]) ((GgufValue) ((List<?>) f.value("a.nested").value()).get(0)).value());
        }
    }

    private static GgufValue arr(GgufValueType elementType, Object value) {
        return new GgufValue(GgufValueType.ARRAY, elementType, value);
    }

    static void assertValueEquals(GgufValue expected, GgufValue actual, String where) {
        assertEquals(expected.type(), actual.type(), where + " type");
        assertEquals(expected.elementType(), actual.elementType(), where + " element type");
        if (expected.value() instanceof List<?> le) {
            List<?> la = assertInstanceOf(List.class, actual.value(), where);
            assertEquals(le.size(), la.size(), where + " length");
            for (int i = 0; i < le.size(); i++) assertValueEquals((GgufValue) le.get(i), (GgufValue) la.get(i), where + "[" + i + "]");
        } else if (expected.value() instanceof float[] fe) {
            // Compare bit patterns so that NaN and -0 round-trip exactly.
            float[] fa = (float[]) actual.value();
            assertEquals(fe.length, fa.length, where);
            for (int i = 0; i < fe.length; i++) assertEquals(Float.floatToRawIntBits(fe[i]), Float.floatToRawIntBits(fa[i]), where + "[" + i + "]");
        } else {
            assertTrue(java.util.Objects.deepEquals(expected.value(), actual.value()),
                    where + ": expected " + expected + " but read " + actual);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64})
    void f32TensorsOfOddShapesRoundTripAligned(int alignment) {
        long[][] shapes = {{7}, {5, 3}, {3, 2, 5}, {1, 3, 1, 2}, {33, 1}};
        Random r = new Random(alignment);
        List<float[]> data = new ArrayList<>();
        GgufWriter w = new GgufWriter();
        if (alignment != 32) w.alignment(alignment);
        w.putString("general.architecture", "test");
        for (int i = 0; i < shapes.length; i++) {
            int n = Math.toIntExact(Arrays.stream(shapes[i]).reduce(1, (a, b) -> a * b));
            float[] v = new float[n];
            for (int j = 0; j < n; j++) v[j] = (float) r.nextGaussian();
            data.add(v);
            w.addTensor("t" + i, GgmlType.F32, shapes[i], v);
        }
        Path p = dir.resolve("tensors" + alignment + ".gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(alignment, f.alignment());
            assertEquals(alignment != 32, f.has("general.alignment"));
            assertEquals(0, f.dataOffset() % alignment);
            assertEquals(shapes.length, f.tensors().size());
            for (int i = 0; i < shapes.length; i++) {
                GgufTensor t = f.tensor("t" + i);
                assertEquals(GgmlType.F32, t.type());
                assertArrayEquals(shapes[i], t.shape());
                assertEquals(0, t.fileOffset() % alignment, "t" + i + " aligned");
                assertArrayEquals(data.get(i), t.data().toArray(LE_F32), "t" + i + " values");
            }
            // The last tensor ends the file: no trailing garbage.
            GgufTensor last = f.tensor("t" + (shapes.length - 1));
            assertEquals(f.byteSize(), last.fileOffset() + last.byteSize());
        }
    }

    @Test
    void floatSourceIsStreamedInWholeRowChunksInOrder() {
        int rowLength = 12, rows = 40;
        List<long[]> calls = new ArrayList<>();
        GgufWriter w = new GgufWriter(3 * rowLength * 4); // three rows per chunk
        w.addTensor("m", GgmlType.F32, new long[]{rowLength, rows}, (first, dst, n) -> {
            calls.add(new long[]{first, n});
            for (int i = 0; i < n; i++) dst[i] = first + i;
        });
        Path p = dir.resolve("chunks.gguf");
        w.write(p);
        assertEquals(14, calls.size(), "40 rows in chunks of 3");
        long next = 0;
        for (long[] c : calls) {
            assertEquals(next, c[0], "contiguous ranges");
            assertEquals(0, c[1] % rowLength, "whole rows");
            next += c[1];
        }
        assertEquals((long) rowLength * rows, next);
        try (GgufFile f = GgufFile.open(p)) {
            float[] v = f.tensor("m").data().toArray(LE_F32);
            for (int i = 0; i < v.length; i++) assertEquals(i, v[i]);
        }
    }

    @Test
    void rawTensorsAreCopiedByteForByte() {
        Path src = TestModels.shared("stories260K.gguf");
        Path p = dir.resolve("copy.gguf");
        try (GgufFile in = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter().putAll(in.metadata());
            for (GgufTensor t : in.tensors().values()) w.addRawTensor(t.name(), t.type(), t.shape(), t.data());
            w.write(p);
            try (GgufFile out = GgufFile.open(p)) {
                assertEquals(in.metadata().keySet(), out.metadata().keySet());
                for (String k : in.metadata().keySet()) assertValueEquals(in.value(k), out.value(k), k);
                assertEquals(in.tensors().keySet(), out.tensors().keySet());
                for (GgufTensor t : in.tensors().values()) {
                    GgufTensor c = out.tensor(t.name());
                    assertArrayEquals(t.shape(), c.shape());
                    assertEquals(-1, t.data().mismatch(c.data()), t.name());
                }
            }
        }
    }

    @Test
    void rawTensorFromMemoryCopiesAcrossChunks() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(4 * 100);
            for (int i = 0; i < 100; i++) bytes.setAtIndex(LE_F32, i, i * 0.5f);
            Path p = dir.resolve("raw.gguf");
            new GgufWriter(64).addRawTensor("r", GgmlType.F32, new long[]{10, 10}, bytes).write(p);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(-1, f.tensor("r").data().mismatch(bytes));
            }
        }
    }

    @Test
    void rejectsBadInputWithClearMessages() {
        GgufWriter w = new GgufWriter();
        assertTrue(assertThrows(GgufException.class, () -> w.addTensor("a", GgmlType.F32, new long[]{2, 3}, new float[5]))
                .getMessage().contains("6 values"));
        w.addTensor("a", GgmlType.F32, new long[]{2}, new float[2]);
        assertTrue(assertThrows(GgufException.class, () -> w.addTensor("a", GgmlType.F32, new long[]{2}, new float[2]))
                .getMessage().contains("added twice"));
        assertTrue(assertThrows(GgufException.class, () -> w.addTensor("b", GgmlType.Q8_0, new long[]{33, 2}, new float[66]))
                .getMessage().contains("block size 32"));
        assertTrue(assertThrows(GgufException.class, () -> w.addTensor("c", GgmlType.F32, new long[]{2, 0}, new float[0]))
                .getMessage().contains("dimension 0"));
        assertTrue(assertThrows(GgufException.class, () -> w.addTensor("d", GgmlType.F32, new long[]{1, 1, 1, 1, 1}, new float[1]))
                .getMessage().contains("1 to 4 dimensions"));
        assertTrue(assertThrows(GgufException.class, () -> w.alignment(48)).getMessage().contains("power of two"));
        assertTrue(assertThrows(GgufException.class, () -> w.put("k", new GgufValue(GgufValueType.INT32, null, "x")))
                .getMessage().contains("key k"));
        assertTrue(assertThrows(GgufException.class, () -> w.put("k", new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, new float[1])))
                .getMessage().contains("ARRAY of INT32"));
        try (Arena arena = Arena.ofConfined()) {
            assertTrue(assertThrows(GgufException.class, () -> w.addRawTensor("e", GgmlType.F32, new long[]{4}, arena.allocate(15)))
                    .getMessage().contains("takes 16 bytes"));
        }
    }

    @Test
    void aFailedWriteLeavesNoFile() throws Exception {
        // A type the writer cannot encode in this build fails at write time and leaves nothing behind.
        GgufWriter w = new GgufWriter().addTensor("x", GgmlType.IQ2_XXS, new long[]{256}, new float[256]);
        Path p = dir.resolve("fail.gguf");
        assertThrows(GgufException.class, () -> w.write(p));
        assertFalse(Files.exists(p));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "temporary file removed");
        }
    }
}
