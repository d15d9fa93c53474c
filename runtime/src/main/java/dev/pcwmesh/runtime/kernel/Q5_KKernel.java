package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.pcwmesh.runtime.kernel.KQuants.QK_K;
import static dev.pcwmesh.runtime.kernel.Lanes.BL;
import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;
import static dev.pcwmesh.runtime.kernel.Lanes.PARTS;

/**
 * Q5_K: super-blocks of 256 values, {@code {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}}
 * (176 bytes): Q4_K's layout plus a fifth bit per value. For the {@code i}-th run of 64 values,
 * value {@code 64i + l} takes the low nibble of {@code qs[32i + l]} and bit {@code 2i} of
 * {@code qh[l]}, value {@code 64i + 32 + l} the high nibble and bit {@code 2i+1}; a value is
 * {@code d*sc * q - dmin*m}. Quantization is ggml's {@code quantize_row_q5_K_ref}.
 */
final class Q5_KKernel implements ScaleMinKernel {
    private static final int BYTES = 176;

    @Override public GgmlType type() { return GgmlType.Q5_K; }

    /** {@code 0x10} in each lane of {@code qh} that has bit {@code u} set, else 0. */
    private static ByteVector high(ByteVector qh, byte u) {
        return ByteVector.zero(Lanes.B).blend((byte) 0x10, qh.and(u).compare(VectorOperators.NE, 0));
    }

    /*
     * Sub-block j (values 32j..32j+32) is nibble j % 2 of qs[32*(j/2) ..] with bit j of qh[..].
     * One loop over the eight sub-blocks rather than unrolled pairs keeps the methods small
     * enough for C2 to inline every vector call (otherwise vectors get boxed).
     */

    @Override
    public void dequantize(MemorySegment data, long first, float[] dst, int dstOffset, int n) {
        Lanes.checkBlocks(first, n, QK_K);
        long base = first / QK_K * BYTES;
        for (int b = 0; b < n / QK_K; b++) {
            long off = base + (long) b * BYTES;
            float d = Lanes.half(data, off);
            float dmin = Lanes.half(data, off + 2);
            for (int j = 0; j < 8; j++) {
                FloatVector dj = FloatVector.broadcast(F, d * KQuants.scale(data, off + 4, j));
                FloatVector mj = FloatVector.broadcast(F, dmin * KQuants.min(data, off + 4, j));
                int y = dstOffset + b * QK_K + 32 * j;
                for (int o = 0; o < 32; o += BL) {
                    ByteVector q = Lanes.shr(Lanes.bytes(data, off + 48 + 32 * (j >> 1) + o), 4 * (j & 1)).and((byte) 0x0F).or(high(Lanes.bytes(data, off + 16 + o), (byte) (1 << j)));
                    for (int p = 0; p < PARTS; p++) Lanes.floats(q, p).mul(dj).sub(mj).intoArray(dst, y + o + p * L);
                }
            }
        }
    }

    @Override
    public ByteVector quants(MemorySegment data, long off, int j, int o) {
        return Int8Lanes.shr(Int8Lanes.load(data, off + 48 + 32 * (j >> 1) + o), 4 * (j & 1)).and((byte) 0x0F)
                .or(Int8Lanes.bit4(Int8Lanes.load(data, off + 16 + o), (byte) (1 << j)));
    }

    @Override public QuantizedActivations.VecDotType vecDotType() { return QuantizedActivations.VecDotType.Q8_K; }

    @Override public int blockBytes() { return BYTES; }

    @Override public int maxQuant() { return 31; }

    /**
     * ggml's {@code ggml_vec_dot_q5_K_q8_K_generic}: per super-block the integer sum of
     * {@code sc_j * (q . q8)} over the sub-blocks, scaled by {@code d * y.d}, less
     * {@code dmin * y.d} times the integer sum of {@code m_j * (y.bsums of sub-block j)}. (ggml
     * keeps the first sum as eight lane sums, each scaled by itself; that changes only the float
     * rounding, as does converting a sum beyond 2^24 to float.)
     */
    @Override
    public float dot(MemorySegment data, long first, QuantizedActivations a, int aOffset, int n) {
        Lanes.checkBlocks(first, n, QK_K);
        a.check(QuantizedActivations.VecDotType.Q8_K, aOffset, n);
        long base = first / QK_K * BYTES;
        float sumf = 0, sums = 0;
        for (int b = 0; b < n / QK_K; b++) {
            long off = base + (long) b * BYTES;
            int ab = aOffset + b * QK_K;
            IntVector acc = IntVector.zero(Int8Lanes.I);
            int summs = 0;
            for (int j = 0; j < 8; j++) {
                IntVector sub = IntVector.zero(Int8Lanes.I);
                for (int o = 0; o < 16; o += Int8Lanes.N) {
                    ByteVector q0 = quants(data, off, j, o), q1 = quants(data, off, j, 16 + o);
                    sub = sub.add(Int8Lanes.pairs(Int8Lanes.mul(q0, a.qs16, ab + 32 * j + o).add(Int8Lanes.mul(q1, a.qs16, ab + 32 * j + 16 + o))));
                }
                acc = acc.add(sub.mul(KQuants.scale(data, off + 4, j)));
                summs += KQuants.min(data, off + 4, j) * (a.bsums[ab / 16 + 2 * j] + a.bsums[ab / 16 + 2 * j + 1]);
            }
            int isum = acc.reduceLanes(VectorOperators.ADD);
            float dy = a.d[ab / QK_K];
            sums += (Lanes.half(data, off) * dy) * isum;
            sumf -= (Lanes.half(data, off + 2) * dy) * summs;
        }
        return sumf + sums;
    }

    /** ggml's {@code quantize_row_q5_K_ref}. */
    @Override
    public void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long first) {
        Lanes.checkBlocks(first, n, QK_K);
        long base = first / QK_K * BYTES;
        int[] lq = new int[QK_K];
        byte[] qh = new byte[32];
        for (int b = 0; b < n / QK_K; b++) {
            int xs = srcOffset + b * QK_K;
            long off = base + (long) b * BYTES;
            KQuants.quantizeScalesAndMins(src, xs, 31, -0.5f, 0.1f, 15, dst, off, lq);
            java.util.Arrays.fill(qh, (byte) 0);
            int m1 = 1, m2 = 2;
            for (int nn = 0; nn < QK_K; nn += 64) {
                for (int j = 0; j < 32; j++) {
                    int l1 = lq[nn + j];
                    if (l1 > 15) { l1 -= 16; qh[j] |= (byte) m1; }
                    int l2 = lq[nn + j + 32];
                    if (l2 > 15) { l2 -= 16; qh[j] |= (byte) m2; }
                    dst.set(ValueLayout.JAVA_BYTE, off + 48 + nn / 2 + j, (byte) (l1 | (l2 << 4)));
                }
                m1 <<= 2;
                m2 <<= 2;
            }
            MemorySegment.copy(qh, 0, dst, ValueLayout.JAVA_BYTE, off + 16, 32);
        }
    }
}
