package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** 32-bit floats, stored little-endian. */
final class F32Kernel implements TypeKernel {
    private static final VectorSpecies<Float> S = Lanes.F;
    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override public GgmlType type() { return GgmlType.F32; }

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        MemorySegment.copy(data, LE, first * 4, dst, dstOffset, n);
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.F32; }

    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        a.check(QuantizedActivations.VecDotType.F32, aOffset, n);
        float[] x = a.values;
        int xOffset = aOffset;
        long base = first * 4;
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            FloatVector w = FloatVector.fromMemorySegment(S, data, base + i * 4L, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(S, x, xOffset + i), acc);
        }
        float sum = Vectors.sumLanes(S, acc); // in one fixed order: see there
        for (; i < n; i++) sum += data.get(LE, base + i * 4L) * x[xOffset + i];
        return sum;
    }

    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        MemorySegment.copy(src, srcOffset, dst, LE, first * 4, n);
    }
}
