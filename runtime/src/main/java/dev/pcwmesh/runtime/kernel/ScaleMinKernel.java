package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;

import java.lang.foreign.MemorySegment;

/**
 * Q4_K and Q5_K: super-blocks of eight sub-blocks of 32 values, each with a 6-bit scale and min
 * ({@code get_scale_min_k4}) after {@code f16 d, dmin}; only the quants' packing differs.
 */
interface ScaleMinKernel extends SuperBlockKernel {
    /** Quants {@code [o, o+N)} of sub-block {@code j} of the super-block at byte offset {@code off}, in {@link Int8Lanes}' chunks. */
    ByteVector quants(MemorySegment data, long off, int j, int o);

    @Override default int subBlocks() { return 8; }

    @Override default int maxScale() { return 63; }

    @Override default float d(MemorySegment data, long off) { return Lanes.half(data, off); }

    /** The super-block's {@code dmin}, the scale of its mins. */
    default float dmin(MemorySegment data, long off) { return Lanes.half(data, off + 2); }

    @Override
    default void split(MemorySegment data, long off, byte[] q, byte[] scales, byte[] mins) {
        for (int j = 0; j < 8; j++) {
            scales[j] = (byte) KQuants.scale(data, off + 4, j);
            mins[j] = (byte) KQuants.min(data, off + 4, j);
            for (int o = 0; o < 32; o += Int8Lanes.N) quants(data, off, j, o).intoArray(q, 32 * j + o);
        }
    }

    @Override
    default void unpack(MemorySegment data, long off, float[] values, int at, float[] header, int h) {
        header[h] = Lanes.half(data, off);
        header[h + 1] = Lanes.half(data, off + 2);
        for (int j = 0; j < 8; j++) {
            header[h + 2 + j] = KQuants.min(data, off + 4, j);
            int scale = KQuants.scale(data, off + 4, j);
            for (int o = 0; o < 32; o += Int8Lanes.N) SuperBlockFloats.put(quants(data, off, j, o), scale, values, at + 32 * j + o);
        }
    }
}
