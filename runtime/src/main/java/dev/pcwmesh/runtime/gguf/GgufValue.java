package dev.pcwmesh.runtime.gguf;

import java.util.Arrays;
import java.util.List;

/**
 * One metadata value with the type it was stored as, so that a file can be written back unchanged.
 *
 * <p>Java representation of {@link #value()}: UINT8, INT8, UINT16, INT16 and INT32 as {@link Integer}
 * (unsigned ones zero-extended); UINT32, INT64 and UINT64 as {@link Long} (UINT64 above 2^63 wraps);
 * FLOAT32 as {@link Float}; FLOAT64 as {@link Double}; BOOL as {@link Boolean}; STRING as {@link String}.
 * Arrays ({@code type == ARRAY}) use a primitive array by element type: UINT8/INT8 {@code byte[]},
 * UINT16/INT16 {@code short[]}, UINT32/INT32 {@code int[]}, UINT64/INT64 {@code long[]},
 * FLOAT32 {@code float[]}, FLOAT64 {@code double[]}, BOOL {@code boolean[]}, STRING {@code String[]},
 * and arrays of arrays a {@code List<GgufValue>}.
 *
 * @param type        the stored type
 * @param elementType for arrays, the element type; otherwise null
 * @param value       the value, as described above
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue of(String s) { return new GgufValue(GgufValueType.STRING, null, s); }
    public static GgufValue ofUint32(long v) { return new GgufValue(GgufValueType.UINT32, null, v); }
    public static GgufValue ofInt32(int v) { return new GgufValue(GgufValueType.INT32, null, v); }
    public static GgufValue ofFloat32(float v) { return new GgufValue(GgufValueType.FLOAT32, null, v); }
    public static GgufValue ofBool(boolean v) { return new GgufValue(GgufValueType.BOOL, null, v); }
    public static GgufValue ofStrings(String[] v) { return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, v); }
    public static GgufValue ofFloats(float[] v) { return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, v); }
    public static GgufValue ofInt32s(int[] v) { return new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, v); }

    /** Number of elements of an array value. */
    public int length() {
        return switch (value) {
            case byte[] a -> a.length;
            case short[] a -> a.length;
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            case List<?> a -> a.size();
            default -> throw new GgufException("value of type " + type + " is not an array");
        };
    }

    /** A short human-readable rendering; long arrays are abbreviated. */
    @Override
    public String toString() {
        if (type != GgufValueType.ARRAY) return String.valueOf(value);
        String head = switch (value) {
            case byte[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case short[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case int[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case long[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case float[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case double[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case boolean[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case String[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case List<?> a -> a.subList(0, Math.min(a.size(), 8)).toString();
            default -> String.valueOf(value);
        };
        return elementType + "[" + length() + "] " + (length() > 8 ? head.substring(0, head.length() - 1) + ", ...]" : head);
    }
}
