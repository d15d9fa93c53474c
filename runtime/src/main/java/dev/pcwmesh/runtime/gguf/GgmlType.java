package dev.pcwmesh.runtime.gguf;

/**
 * Tensor element types of the GGML/GGUF format, with the numeric ids the file stores and the
 * block geometry (elements per block, bytes per block) that locates rows in the data section.
 *
 * <p>Only the types the runtime has kernels for are {@link #supported()}; the others are listed
 * so that a file holding one gets a clear "unsupported tensor type Q2_K" instead of "unknown id 10".
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false),
    MXFP4(39, 32, 17, false);

    private final int id;
    private final int blockSize;
    private final int blockBytes;
    private final boolean supported;

    GgmlType(int id, int blockSize, int blockBytes, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.supported = supported;
    }

    /** The id stored in GGUF tensor infos. */
    public int id() { return id; }

    /** Elements per quantization block (1 for plain float types). */
    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int blockBytes() { return blockBytes; }

    /** Whether the runtime has kernels for this type. */
    public boolean supported() { return supported; }

    /** Bytes taken by {@code elements} values; {@code elements} must be a whole number of blocks. */
    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new GgufException(this + " stores blocks of " + blockSize + " values; " + elements + " is not a multiple");
        }
        return elements / blockSize * blockBytes;
    }

    /** The type with this GGUF id, or a {@link GgufException} naming the unknown id. */
    public static GgmlType fromId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) return t;
        }
        throw new GgufException("unknown tensor type id " + id);
    }
}
