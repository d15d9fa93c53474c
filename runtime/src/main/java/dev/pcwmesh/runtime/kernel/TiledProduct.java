package dev.pcwmesh.runtime.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.pcwmesh.runtime.kernel.Lanes.F;
import static dev.pcwmesh.runtime.kernel.Lanes.L;

/**
 * Batched products of a Q4_0, Q5_0 or Q8_0 matrix in {@link RowGroups} with Q8_0 activation
 * vectors (prefill): each worker unpacks a block of row groups to float quants once per batch,
 * then runs a register tile of three groups by four vectors over it. Per element the tile loads
 * three weight vectors and broadcasts four activation quants into twelve FMAs, one output row per
 * lane, so it needs no lane sums; the block sums are exact integers, scaled per block as {@link
 * RowGroups#dot} scales them, so every product is the number a single-vector step gives.
 *
 * <p>Q4_0 takes the same shape in 16-bit lanes ({@link #multiplyNibbles}): its block sums fit
 * in shorts, so two groups share a vector and the multiply-adds are short ones. Q4_K does the
 * same over sixteen values at a time ({@link #multiplySuperBlockNibbles}).
 *
 * <p>F16/BF16 ({@link #multiplyHalves}) and the K-quants ({@link #multiplySuperBlocks}) run the
 * same tile over their own row groups, each in its type's order of arithmetic.
 *
 * <p>Why this shape: the earlier row-by-row kernel dotted one row with four vectors along the
 * row, which spent a third of its FMAs on per-block scaling and ended every row with lane sums;
 * it ran at about 50 GFLOP/s a core against 225 for FMAs alone. This tile, in a microbenchmark
 * on the same machine, ran at 157 (576 x 1536 by 64 vectors).
 */
final class TiledProduct {
    private TiledProduct() {}

    private static final int QK = Int8BlockKernel.QK;
    /** Int lanes of {@link Lanes#F}'s shape: the K-quant tile's exact sums. */
    private static final VectorSpecies<Integer> SUM = F.withLanes(int.class);
    /** Row groups and vectors in a register tile: 12 block sums and 12 row sums of 32 registers. */
    private static final int TILE_GROUPS = 3, TILE_VECTORS = 4;
    /** Shorts of {@link Lanes#F}'s shape: one element of two row groups per vector, for {@link #tileShorts}. */
    private static final VectorSpecies<Short> PAIR = F.withLanes(short.class);
    /** Row groups in {@link #tileShorts}: two pairs, by {@link #TILE_VECTORS} vectors. */
    private static final int SHORT_TILE_GROUPS = 4;
    /** Bytes of unpacked groups a worker holds at once (a whole number of tiles, one at least): an L2 cache's share. */
    private static final int BLOCK_BYTES = 256 * 1024;

    private static final ThreadLocal<float[]> unpacked = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Row groups in the F16/BF16 tile ({@link #multiplyHalves}): {@link #TILE_GROUPS}, or two
     * where the vector registers are 16 ({@link Lanes#SIXTEEN_REGISTERS}): three groups' twelve
     * sums, three rows and a broadcast take all sixteen and left C2 none of its own.
     */
    static final int HALF_TILE_GROUPS = Lanes.SIXTEEN_REGISTERS ? 2 : TILE_GROUPS;

    /**
     * Groups of {@code cols} unpacked floats a worker holds at once for a tile of
     * {@code tileGroups} groups: whole tiles in {@link #BLOCK_BYTES}, one tile at least.
     */
    private static int groupsPerBlock(int cols, int tileGroups) {
        return tileGroups * Math.max(1, BLOCK_BYTES / (tileGroups * cols * L * Float.BYTES));
    }
    /** Groups of {@code cols} unpacked shorts a worker holds at once for a 16-bit tile: whole tiles in {@link #BLOCK_BYTES}, one tile at least. */
    private static int shortGroupsPerBlock(int cols) {
        return SHORT_TILE_GROUPS * Math.max(1, BLOCK_BYTES / (SHORT_TILE_GROUPS * cols * L * Short.BYTES));
    }
    private static final ThreadLocal<RowGroups> window = new ThreadLocal<>();

    /**
     * {@code out[v * stride + r]} = row {@code r} of the matrix times vector {@code v} of {@code a}
     * (the batch: {@code batch} vectors of {@code cols}), for every row of every group ({@code out}
     * holds {@code stride >= groups * L} values per vector). The groups are read from
     * {@code heap} when it is not null, else repacked from the stored matrix {@code data} of
     * {@code rows} rows a block at a time.
     */
    static void multiply(Int8BlockKernel kernel, RowGroups heap, MemorySegment data, int rows, int cols,
                         QuantizedActivations a, int batch, float[] out, int stride) {
        multiply(kernel, heap, data, rows, cols, a, batch, out, stride, Lanes.SIXTEEN_REGISTERS);
    }

    /**
     * {@link #multiply}, Q8_0 and Q5_0 in {@link #tile} or, {@code narrow}, in {@link #tileNarrow}
     * (two groups by two vectors), the tile for 16 vector registers, where {@link #tile}'s 24
     * sums alone do not fit (tests take both).
     */
    static void multiply(Int8BlockKernel kernel, RowGroups heap, MemorySegment data, int rows, int cols,
                         QuantizedActivations a, int batch, float[] out, int stride, boolean narrow) {
        a.check(QuantizedActivations.VecDotType.Q8_0, 0, batch * cols);
        if (kernel.groupedBytes() == QK / 2) {
            multiplyNibbles(kernel, heap, data, rows, cols, a, batch, out, stride);
            return;
        }
        int groups = RowGroups.groupsFor(rows);
        int tileGroups = narrow ? 2 : TILE_GROUPS, tileVectors = narrow ? 2 : TILE_VECTORS;
        int perBlock = groupsPerBlock(cols, tileGroups);
        Parallel.forRange(groups, Parallel.minChunk((long) cols * L * batch), tileGroups, (from, to) -> {
            float[] w = WeightMatrix.atLeast(unpacked, perBlock * cols * L);
            for (int g0 = from; g0 < to; g0 += perBlock) {
                int n = Math.min(perBlock, to - g0);
                RowGroups source = heap;
                int first = g0;
                if (heap == null) {
                    source = window(kernel, cols, perBlock);
                    source.fill(data, rows, g0);
                    first = 0;
                }
                for (int i = 0; i < n; i++) source.unpack(first + i, w, i * cols * L);
                // a tile past the last group or vector repeats the last one, writing the same numbers again
                for (int v = 0; v < batch; v += tileVectors) {
                    int v1 = Math.min(v + 1, batch - 1), v2 = Math.min(v + 2, batch - 1), v3 = Math.min(v + 3, batch - 1);
                    for (int i = 0; i < n; i += tileGroups) {
                        if (narrow) {
                            tileNarrow(w, cols, source.scales, first, g0, i, Math.min(i + 1, n - 1), a.qsFloat, a.d, v, v1, out, stride);
                        } else {
                            tile(w, cols, source.scales, first, g0, i, Math.min(i + 1, n - 1), Math.min(i + 2, n - 1),
                                    a.qsFloat, a.d, v, v1, v2, v3, out, stride);
                        }
                    }
                }
            }
        });
    }

    /**
     * {@link #multiply} for Q4_0, in 16-bit lanes: a block's sum of {@code (q - 8) * x} is at most
     * {@code 32 * 8 * 127 = 32512} in magnitude, so shorts hold it exactly, and a short vector
     * multiplies and adds twice the lanes of a float FMA in two instructions that run on more ports
     * (a microbenchmark on this project's Zen 5: 270 against 170 GFLOP/s a core). Only the
     * per-block scaling is in floats, the same FMA by {@code dw * dx} in block order, so the numbers
     * are the float tile's. (Activations are {@code -128..127}; only a block of all -128, which
     * NaNs give and whose scale is then 0 or NaN, could reach 32768, and its product is the same.)
     */
    private static void multiplyNibbles(Int8BlockKernel kernel, RowGroups heap, MemorySegment data, int rows, int cols,
                                        QuantizedActivations a, int batch, float[] out, int stride) {
        int groups = RowGroups.groupsFor(rows);
        int perBlock = shortGroupsPerBlock(cols);
        Parallel.forRange(groups, Parallel.minChunk((long) cols * L * batch), SHORT_TILE_GROUPS, (from, to) -> {
            short[] w = unpackedShorts(perBlock * cols * L);
            for (int g0 = from; g0 < to; g0 += perBlock) {
                int n = Math.min(perBlock, to - g0);
                RowGroups source = heap;
                int first = g0;
                if (heap == null) {
                    source = window(kernel, cols, perBlock);
                    source.fill(data, rows, g0);
                    first = 0;
                }
                // pair p (an even group) at p * cols * L; an odd count's last pair holds its group twice
                for (int p = 0; p < n; p += 2) source.unpackShorts(first + p, first + Math.min(p + 1, n - 1), w, p * cols * L);
                int lastPair = (n - 1) & ~1;
                for (int v = 0; v < batch; v += TILE_VECTORS) {
                    int v1 = Math.min(v + 1, batch - 1), v2 = Math.min(v + 2, batch - 1), v3 = Math.min(v + 3, batch - 1);
                    for (int i = 0; i < n; i += SHORT_TILE_GROUPS) {
                        int p1 = Math.min(i + 2, lastPair);
                        tileShorts(w, cols, source, first, g0, i, Math.min(i + 1, n - 1), p1, Math.min(p1 + 1, n - 1),
                                a.qs16, a.d, v, v1, v2, v3, out, stride);
                    }
                }
            }
        });
    }

    private static final ThreadLocal<short[]> unpackedShorts = ThreadLocal.withInitial(() -> new short[0]);

    /** This thread's buffer of 16-bit quants, at least {@code n} long. */
    private static short[] unpackedShorts(int n) {
        short[] b = unpackedShorts.get();
        if (b.length < n) {
            b = new short[n];
            unpackedShorts.set(b);
        }
        return b;
    }

    /**
     * {@link #tile} in 16-bit lanes: two pairs of unpacked Q4_0 groups ({@code i0, i1} at {@code
     * i0 * K * L}, {@code i2, i3} at {@code i2 * K * L}; a pair's first group is its even lanes,
     * the second its odd ones) times vectors {@code v0..v3} of {@code x} (the quants as shorts):
     * eight short sums per block, each int lane of which holds a row of both groups (the low
     * half sign-extended by two shifts, the high half by one), scaled into sixteen float sums.
     * Those shifts are written out at each use: through two small helper methods, C2 left
     * conversions unintrinsified in this method's compile and the tile ran at a quarter of its
     * speed. (Widening a vector's upper half of shorts, as this tile did before, took a table
     * permutation and a blend in C2's code.)
     */
    private static void tileShorts(short[] w, int K, RowGroups source, int scaleGroup, int outGroup, int i0, int i1, int i2, int i3,
                                   short[] x, float[] xd, int v0, int v1, int v2, int v3, float[] out, int stride) {
        int nb = K / QK, sixteen = RowGroups.NIBBLE_SHIFTS[3];
        int w0 = i0 * K * L, w1 = i2 * K * L;
        float[] scales = source.scales;
        int ss = source.scaleStride();
        int s0 = source.scaleAt(scaleGroup + i0, 0), s1 = source.scaleAt(scaleGroup + i1, 0);
        int s2 = source.scaleAt(scaleGroup + i2, 0), s3 = source.scaleAt(scaleGroup + i3, 0);
        int x0 = v0 * K, x1 = v1 * K, x2 = v2 * K, x3 = v3 * K;
        // a<group><vector>: float sums of group i0..i3 by vector v0..v3
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int b = 0; b < nb; b++) {
            // c<pair><vector>: the block's exact sums of pair 0 (groups i0, i1) and pair 1 (i2, i3)
            ShortVector c00 = ShortVector.zero(PAIR), c01 = c00, c02 = c00, c03 = c00;
            ShortVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            for (int k = b * QK; k < b * QK + QK; k++) {
                ShortVector r0 = ShortVector.fromArray(PAIR, w, w0 + k * 2 * L);
                ShortVector r1 = ShortVector.fromArray(PAIR, w, w1 + k * 2 * L);
                ShortVector y = ShortVector.broadcast(PAIR, x[x0 + k]);
                c00 = r0.mul(y).add(c00);
                c10 = r1.mul(y).add(c10);
                y = ShortVector.broadcast(PAIR, x[x1 + k]);
                c01 = r0.mul(y).add(c01);
                c11 = r1.mul(y).add(c11);
                y = ShortVector.broadcast(PAIR, x[x2 + k]);
                c02 = r0.mul(y).add(c02);
                c12 = r1.mul(y).add(c12);
                y = ShortVector.broadcast(PAIR, x[x3 + k]);
                c03 = r0.mul(y).add(c03);
                c13 = r1.mul(y).add(c13);
            }
            FloatVector d0 = FloatVector.fromArray(F, scales, s0 + b * ss);
            FloatVector d1 = FloatVector.fromArray(F, scales, s1 + b * ss);
            FloatVector d2 = FloatVector.fromArray(F, scales, s2 + b * ss);
            FloatVector d3 = FloatVector.fromArray(F, scales, s3 + b * ss);
            float e = xd[v0 * nb + b];
            a00 = ((FloatVector) c00.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d0.mul(e), a00);
            a10 = ((FloatVector) c00.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d1.mul(e), a10);
            a20 = ((FloatVector) c10.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d2.mul(e), a20);
            a30 = ((FloatVector) c10.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d3.mul(e), a30);
            e = xd[v1 * nb + b];
            a01 = ((FloatVector) c01.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d0.mul(e), a01);
            a11 = ((FloatVector) c01.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d1.mul(e), a11);
            a21 = ((FloatVector) c11.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d2.mul(e), a21);
            a31 = ((FloatVector) c11.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d3.mul(e), a31);
            e = xd[v2 * nb + b];
            a02 = ((FloatVector) c02.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d0.mul(e), a02);
            a12 = ((FloatVector) c02.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d1.mul(e), a12);
            a22 = ((FloatVector) c12.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d2.mul(e), a22);
            a32 = ((FloatVector) c12.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d3.mul(e), a32);
            e = xd[v3 * nb + b];
            a03 = ((FloatVector) c03.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d0.mul(e), a03);
            a13 = ((FloatVector) c03.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d1.mul(e), a13);
            a23 = ((FloatVector) c13.reinterpretAsInts().lanewise(VectorOperators.LSHL, sixteen).lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d2.mul(e), a23);
            a33 = ((FloatVector) c13.reinterpretAsInts().lanewise(VectorOperators.ASHR, sixteen).convert(VectorOperators.I2F, 0)).fma(d3.mul(e), a33);
        }
        int r0 = (outGroup + i0) * L, r1 = (outGroup + i1) * L, r2 = (outGroup + i2) * L, r3 = (outGroup + i3) * L;
        a00.intoArray(out, v0 * stride + r0);
        a10.intoArray(out, v0 * stride + r1);
        a20.intoArray(out, v0 * stride + r2);
        a30.intoArray(out, v0 * stride + r3);
        a01.intoArray(out, v1 * stride + r0);
        a11.intoArray(out, v1 * stride + r1);
        a21.intoArray(out, v1 * stride + r2);
        a31.intoArray(out, v1 * stride + r3);
        a02.intoArray(out, v2 * stride + r0);
        a12.intoArray(out, v2 * stride + r1);
        a22.intoArray(out, v2 * stride + r2);
        a32.intoArray(out, v2 * stride + r3);
        a03.intoArray(out, v3 * stride + r0);
        a13.intoArray(out, v3 * stride + r1);
        a23.intoArray(out, v3 * stride + r2);
        a33.intoArray(out, v3 * stride + r3);
    }

    /**
     * {@link #multiply} for an F16 or BF16 matrix in {@link HalfGroups} ({@code bf16} says which)
     * and prepared activations {@code x} (rounded to the type): the same blocks of groups,
     * widened to floats, and the same tile without block scales, each sum one chain of FMAs in
     * element order as {@link HalfGroups#dot} builds it.
     */
    static void multiplyHalves(boolean bf16, HalfGroups heap, MemorySegment data, int rows, int cols, float[] x, int batch,
                               float[] out, int stride) {
        multiplyHalves(bf16, heap, data, rows, cols, x, batch, out, stride, HALF_TILE_GROUPS);
    }

    /** {@link #multiplyHalves} with a tile of {@code tileGroups} groups, two or three (tests take both). */
    static void multiplyHalves(boolean bf16, HalfGroups heap, MemorySegment data, int rows, int cols, float[] x, int batch,
                               float[] out, int stride, int tileGroups) {
        if (tileGroups != 2 && tileGroups != 3) throw new IllegalArgumentException("a tile of " + tileGroups + " groups");
        int groups = RowGroups.groupsFor(rows);
        int perBlock = groupsPerBlock(cols, tileGroups);
        Parallel.forRange(groups, Parallel.minChunk((long) cols * L * batch), tileGroups, (from, to) -> {
            float[] w = WeightMatrix.atLeast(unpacked, perBlock * cols * L);
            for (int g0 = from; g0 < to; g0 += perBlock) {
                int n = Math.min(perBlock, to - g0);
                HalfGroups source = heap;
                int first = g0;
                if (heap == null) {
                    source = halfWindow(bf16, cols, perBlock);
                    source.fill(data, rows, g0);
                    first = 0;
                }
                for (int i = 0; i < n; i++) source.unpack(first + i, w, i * cols * L);
                for (int v = 0; v < batch; v += TILE_VECTORS) {
                    int v1 = Math.min(v + 1, batch - 1), v2 = Math.min(v + 2, batch - 1), v3 = Math.min(v + 3, batch - 1);
                    for (int i = 0; i < n; i += tileGroups) {
                        if (tileGroups == 3) tileFloats(w, cols, g0, i, Math.min(i + 1, n - 1), Math.min(i + 2, n - 1), x, v, v1, v2, v3, out, stride);
                        else tileFloatsNarrow(w, cols, g0, i, Math.min(i + 1, n - 1), x, v, v1, v2, v3, out, stride);
                    }
                }
            }
        });
    }

    /**
     * A worker's memory for {@link #superBlockTile} and {@link #superBlockShortTile}: a
     * super-block's int sums per (group, vector) pair, the running {@code sums} and {@code sumf}
     * of each pair, and a group's mins terms for the tile's four vectors ({@link
     * #scaleSuperBlock}). Taken once per piece rather than looked up per tile and super-block.
     */
    private record SuperBlockScratch(int[] sums, float[] acc, float[] minTerms) {
        SuperBlockScratch() {
            this(new int[SUPER_BLOCK_PAIRS * L], new float[2 * SUPER_BLOCK_PAIRS * L], new float[TILE_VECTORS * L]);
        }
    }

    /**
     * (group, vector) pairs of a K-quant tile's scratch, room for either tile's: pair (group
     * {@code t}, vector {@code u}) at {@code (t * TILE_VECTORS + u) * L}, its {@code sumf} that
     * many pairs further on.
     */
    private static final int SUPER_BLOCK_PAIRS = Math.max(TILE_GROUPS, SHORT_TILE_GROUPS) * TILE_VECTORS;

    private static final ThreadLocal<SuperBlockScratch> superBlockScratch = ThreadLocal.withInitial(SuperBlockScratch::new);

    /**
     * {@link #multiply} for a K-quant matrix in {@link SuperBlockGroups} and prepared Q8_K
     * activations: the same blocks of groups, unpacked to quants times sub-block scales, and the
     * same register tile, whose float sums are moved into int lanes every {@link
     * SuperBlockGroups#chunk} values (below 2^24, so exact) and scaled once per super-block as
     * {@link SuperBlockGroups#dot} scales them.
     */
    static void multiplySuperBlocks(SuperBlockGroups m, QuantizedActivations a, int batch, float[] out, int stride) {
        a.check(QuantizedActivations.VecDotType.Q8_K, 0, batch * m.cols);
        if (m.nibbles) {
            multiplySuperBlockNibbles(m, a, batch, out, stride);
            return;
        }
        int cols = m.cols;
        int perBlock = groupsPerBlock(cols, TILE_GROUPS);
        float[] subSums = m.activationSums(a, batch * cols);
        Parallel.forRange(m.groups, Parallel.minChunk((long) cols * L * batch), TILE_GROUPS, (from, to) -> {
            float[] w = WeightMatrix.atLeast(unpacked, perBlock * cols * L);
            SuperBlockScratch scratch = superBlockScratch.get();
            for (int g0 = from; g0 < to; g0 += perBlock) {
                int n = Math.min(perBlock, to - g0);
                for (int i = 0; i < n; i++) m.unpack(g0 + i, w, i * cols * L);
                for (int v = 0; v < batch; v += TILE_VECTORS) {
                    for (int i = 0; i < n; i += TILE_GROUPS) {
                        superBlockTile(w, m, g0, i, Math.min(TILE_GROUPS, n - i), a, subSums, v, Math.min(TILE_VECTORS, batch - v), out, stride, scratch);
                    }
                }
            }
        });
    }

    /**
     * {@link #multiplySuperBlocks} for Q4_K, in 16-bit lanes as {@link #multiplyNibbles} for
     * Q4_0: a quant (0..15) times an activation quant (|x| <= 127) is at most 1905 in magnitude,
     * so sixteen of them, 30480 at most, add exactly in shorts. The tile multiplies and adds
     * shorts over each half of a sub-block, widens the sums to ints, and multiplies them there by
     * the sub-block scales into the super-block's exact {@code isum}, which is scaled as the
     * float tile scales it; the numbers are the same.
     */
    private static void multiplySuperBlockNibbles(SuperBlockGroups m, QuantizedActivations a, int batch, float[] out, int stride) {
        int cols = m.cols;
        int perBlock = shortGroupsPerBlock(cols);
        float[] subSums = m.activationSums(a, batch * cols);
        Parallel.forRange(m.groups, Parallel.minChunk((long) cols * L * batch), SHORT_TILE_GROUPS, (from, to) -> {
            short[] w = unpackedShorts(perBlock * cols * L);
            SuperBlockScratch scratch = superBlockScratch.get();
            for (int g0 = from; g0 < to; g0 += perBlock) {
                int n = Math.min(perBlock, to - g0);
                // pair p (an even group) at p * cols * L; an odd count's last pair holds its group twice
                for (int p = 0; p < n; p += 2) m.unpackShorts(g0 + p, g0 + Math.min(p + 1, n - 1), w, p * cols * L);
                int lastPair = (n - 1) & ~1;
                for (int v = 0; v < batch; v += TILE_VECTORS) {
                    for (int i = 0; i < n; i += SHORT_TILE_GROUPS) {
                        superBlockShortTile(w, m, g0, i, Math.min(SHORT_TILE_GROUPS, n - i), Math.min(i + 2, lastPair), a, subSums,
                                v, Math.min(TILE_VECTORS, batch - v), out, stride, scratch);
                    }
                }
            }
        });
    }

    /**
     * {@link #superBlockTile} in 16-bit lanes: two pairs of unpacked Q4_K groups (groups
     * {@code i, i + 1} at {@code i * K * L}, the second pair at {@code pair1 * K * L}) times
     * vectors {@code [v, v + nv)}: eight short sums per sixteen values, widened into sixteen int
     * sums of the super-block times the sub-block scales. A group past {@code ng} repeats a real
     * one and is neither scaled nor stored.
     */
    private static void superBlockShortTile(short[] w, SuperBlockGroups m, int first, int i, int ng, int pair1, QuantizedActivations a,
                                            float[] subSums, int v, int nv, float[] out, int stride, SuperBlockScratch scratch) {
        int K = m.cols, nsb = K / KQuants.QK_K, S = m.subBlocks;
        int w0 = i * K * L, w1 = pair1 * K * L;
        short[] x = a.qs16;
        int x0 = v * K, x1 = (v + Math.min(1, nv - 1)) * K, x2 = (v + Math.min(2, nv - 1)) * K, x3 = (v + Math.min(3, nv - 1)) * K;
        // the groups whose sub-block scales each quarter of the tile takes
        int g0 = first + i, g1 = first + i + Math.min(1, ng - 1), g2 = first + i + Math.min(2, ng - 1), g3 = first + i + Math.min(3, ng - 1);
        byte[] scales = m.scales;
        int[] sums = scratch.sums();
        float[] acc = scratch.acc();
        Arrays.fill(acc, 0f);
        for (int b = 0; b < nsb; b++) {
            // s<group><vector>: the super-block's exact isum
            IntVector s00 = IntVector.zero(SUM), s01 = s00, s02 = s00, s03 = s00;
            IntVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            IntVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
            IntVector s30 = s00, s31 = s00, s32 = s00, s33 = s00;
            for (int j = 0; j < S; j++) {
                IntVector d0 = (IntVector) ByteVector.fromArray(Lanes.B, scales, ((g0 * nsb + b) * S + j) * L).convertShape(VectorOperators.B2I, SUM, 0);
                IntVector d1 = (IntVector) ByteVector.fromArray(Lanes.B, scales, ((g1 * nsb + b) * S + j) * L).convertShape(VectorOperators.B2I, SUM, 0);
                IntVector d2 = (IntVector) ByteVector.fromArray(Lanes.B, scales, ((g2 * nsb + b) * S + j) * L).convertShape(VectorOperators.B2I, SUM, 0);
                IntVector d3 = (IntVector) ByteVector.fromArray(Lanes.B, scales, ((g3 * nsb + b) * S + j) * L).convertShape(VectorOperators.B2I, SUM, 0);
                for (int c = b * KQuants.QK_K + j * 32; c < b * KQuants.QK_K + j * 32 + 32; c += 16) {
                    // c<pair><vector>: sixteen values' exact sums of pair 0 (groups i, i + 1) and pair 1
                    ShortVector c00 = ShortVector.zero(PAIR), c01 = c00, c02 = c00, c03 = c00;
                    ShortVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
                    for (int k = c; k < c + 16; k++) {
                        ShortVector r0 = ShortVector.fromArray(PAIR, w, w0 + k * 2 * L);
                        ShortVector r1 = ShortVector.fromArray(PAIR, w, w1 + k * 2 * L);
                        ShortVector y = ShortVector.broadcast(PAIR, x[x0 + k]);
                        c00 = r0.mul(y).add(c00);
                        c10 = r1.mul(y).add(c10);
                        y = ShortVector.broadcast(PAIR, x[x1 + k]);
                        c01 = r0.mul(y).add(c01);
                        c11 = r1.mul(y).add(c11);
                        y = ShortVector.broadcast(PAIR, x[x2 + k]);
                        c02 = r0.mul(y).add(c02);
                        c12 = r1.mul(y).add(c12);
                        y = ShortVector.broadcast(PAIR, x[x3 + k]);
                        c03 = r0.mul(y).add(c03);
                        c13 = r1.mul(y).add(c13);
                    }
                    // widened inline, as in tileShorts
                    s00 = s00.add(((IntVector) c00.convertShape(VectorOperators.S2I, SUM, 0)).mul(d0));
                    s10 = s10.add(((IntVector) c00.convertShape(VectorOperators.S2I, SUM, 1)).mul(d1));
                    s20 = s20.add(((IntVector) c10.convertShape(VectorOperators.S2I, SUM, 0)).mul(d2));
                    s30 = s30.add(((IntVector) c10.convertShape(VectorOperators.S2I, SUM, 1)).mul(d3));
                    s01 = s01.add(((IntVector) c01.convertShape(VectorOperators.S2I, SUM, 0)).mul(d0));
                    s11 = s11.add(((IntVector) c01.convertShape(VectorOperators.S2I, SUM, 1)).mul(d1));
                    s21 = s21.add(((IntVector) c11.convertShape(VectorOperators.S2I, SUM, 0)).mul(d2));
                    s31 = s31.add(((IntVector) c11.convertShape(VectorOperators.S2I, SUM, 1)).mul(d3));
                    s02 = s02.add(((IntVector) c02.convertShape(VectorOperators.S2I, SUM, 0)).mul(d0));
                    s12 = s12.add(((IntVector) c02.convertShape(VectorOperators.S2I, SUM, 1)).mul(d1));
                    s22 = s22.add(((IntVector) c12.convertShape(VectorOperators.S2I, SUM, 0)).mul(d2));
                    s32 = s32.add(((IntVector) c12.convertShape(VectorOperators.S2I, SUM, 1)).mul(d3));
                    s03 = s03.add(((IntVector) c03.convertShape(VectorOperators.S2I, SUM, 0)).mul(d0));
                    s13 = s13.add(((IntVector) c03.convertShape(VectorOperators.S2I, SUM, 1)).mul(d1));
                    s23 = s23.add(((IntVector) c13.convertShape(VectorOperators.S2I, SUM, 0)).mul(d2));
                    s33 = s33.add(((IntVector) c13.convertShape(VectorOperators.S2I, SUM, 1)).mul(d3));
                }
            }
            // pair (group t, vector u) at (t * TILE_VECTORS + u) * L
            s00.intoArray(sums, 0);
            s01.intoArray(sums, L);
            s02.intoArray(sums, 2 * L);
            s03.intoArray(sums, 3 * L);
            s10.intoArray(sums, 4 * L);
            s11.intoArray(sums, 5 * L);
            s12.intoArray(sums, 6 * L);
            s13.intoArray(sums, 7 * L);
            s20.intoArray(sums, 8 * L);
            s21.intoArray(sums, 9 * L);
            s22.intoArray(sums, 10 * L);
            s23.intoArray(sums, 11 * L);
            s30.intoArray(sums, 12 * L);
            s31.intoArray(sums, 13 * L);
            s32.intoArray(sums, 14 * L);
            s33.intoArray(sums, 15 * L);
            scaleSuperBlock(m, sums, acc, scratch.minTerms(), first + i, ng, a, subSums, v, nv, b);
        }
        storeSuperBlockTile(acc, first + i, ng, v, nv, out, stride);
    }

    /**
     * A K-quant tile's results, {@code sumf + sums} of each real (group, vector) pair in {@code
     * acc}, into rows of groups {@code [group, group + ng)} of vectors {@code [v, v + nv)} of {@code out}.
     */
    private static void storeSuperBlockTile(float[] acc, int group, int ng, int v, int nv, float[] out, int stride) {
        for (int t = 0; t < ng; t++) {
            for (int u = 0; u < nv; u++) {
                int p = (t * TILE_VECTORS + u) * L;
                FloatVector.fromArray(F, acc, SUPER_BLOCK_PAIRS * L + p).add(FloatVector.fromArray(F, acc, p)).intoArray(out, (v + u) * stride + (group + t) * L);
            }
        }
    }

    /**
     * Unpacked groups {@code [i, i + ng)} of {@code w} (those of group {@code first + i} on in
     * {@code m}) times vectors {@code [v, v + nv)} of {@code a}: three groups by four vectors in
     * registers, a tile past the last group or vector repeating it, stored for the real ones only.
     * A super-block's int sums go through memory to its scaling, and its running {@code sums}
     * and {@code sumf} stay there: in registers they and the block sums would need 52 vectors.
     */
    private static void superBlockTile(float[] w, SuperBlockGroups m, int first, int i, int ng, QuantizedActivations a,
                                       float[] subSums, int v, int nv, float[] out, int stride, SuperBlockScratch scratch) {
        int K = m.cols, nsb = K / KQuants.QK_K, chunk = m.chunk;
        int w0 = i * K * L, w1 = (i + Math.min(1, ng - 1)) * K * L, w2 = (i + Math.min(2, ng - 1)) * K * L;
        float[] x = a.qsFloat;
        int x0 = v * K, x1 = (v + Math.min(1, nv - 1)) * K, x2 = (v + Math.min(2, nv - 1)) * K, x3 = (v + Math.min(3, nv - 1)) * K;
        int[] sums = scratch.sums();
        float[] acc = scratch.acc();
        Arrays.fill(acc, 0f);
        for (int b = 0; b < nsb; b++) {
            IntVector s00 = IntVector.zero(SUM), s01 = s00, s02 = s00, s03 = s00;
            IntVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            IntVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
            for (int c0 = b * KQuants.QK_K; c0 < (b + 1) * KQuants.QK_K; c0 += chunk) {
                FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
                FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
                FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
                for (int k = c0; k < c0 + chunk; k++) {
                    FloatVector r0 = FloatVector.fromArray(F, w, w0 + k * L);
                    FloatVector r1 = FloatVector.fromArray(F, w, w1 + k * L);
                    FloatVector r2 = FloatVector.fromArray(F, w, w2 + k * L);
                    FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
                    c00 = r0.fma(y, c00);
                    c10 = r1.fma(y, c10);
                    c20 = r2.fma(y, c20);
                    y = FloatVector.broadcast(F, x[x1 + k]);
                    c01 = r0.fma(y, c01);
                    c11 = r1.fma(y, c11);
                    c21 = r2.fma(y, c21);
                    y = FloatVector.broadcast(F, x[x2 + k]);
                    c02 = r0.fma(y, c02);
                    c12 = r1.fma(y, c12);
                    c22 = r2.fma(y, c22);
                    y = FloatVector.broadcast(F, x[x3 + k]);
                    c03 = r0.fma(y, c03);
                    c13 = r1.fma(y, c13);
                    c23 = r2.fma(y, c23);
                }
                s00 = s00.add((IntVector) c00.convert(VectorOperators.F2I, 0));
                s10 = s10.add((IntVector) c10.convert(VectorOperators.F2I, 0));
                s20 = s20.add((IntVector) c20.convert(VectorOperators.F2I, 0));
                s01 = s01.add((IntVector) c01.convert(VectorOperators.F2I, 0));
                s11 = s11.add((IntVector) c11.convert(VectorOperators.F2I, 0));
                s21 = s21.add((IntVector) c21.convert(VectorOperators.F2I, 0));
                s02 = s02.add((IntVector) c02.convert(VectorOperators.F2I, 0));
                s12 = s12.add((IntVector) c12.convert(VectorOperators.F2I, 0));
                s22 = s22.add((IntVector) c22.convert(VectorOperators.F2I, 0));
                s03 = s03.add((IntVector) c03.convert(VectorOperators.F2I, 0));
                s13 = s13.add((IntVector) c13.convert(VectorOperators.F2I, 0));
                s23 = s23.add((IntVector) c23.convert(VectorOperators.F2I, 0));
            }
            // pair (group t, vector u) at (t * TILE_VECTORS + u) * L
            s00.intoArray(sums, 0);
            s01.intoArray(sums, L);
            s02.intoArray(sums, 2 * L);
            s03.intoArray(sums, 3 * L);
            s10.intoArray(sums, 4 * L);
            s11.intoArray(sums, 5 * L);
            s12.intoArray(sums, 6 * L);
            s13.intoArray(sums, 7 * L);
            s20.intoArray(sums, 8 * L);
            s21.intoArray(sums, 9 * L);
            s22.intoArray(sums, 10 * L);
            s23.intoArray(sums, 11 * L);
            scaleSuperBlock(m, sums, acc, scratch.minTerms(), first + i, ng, a, subSums, v, nv, b);
        }
        storeSuperBlockTile(acc, first + i, ng, v, nv, out, stride);
    }

    /**
     * The scaling of super-block {@code b} for {@link #superBlockTile}'s real pairs: groups
     * {@code [group, group + ng)} by vectors {@code [v, v + nv)}, their block sums in {@code sums}
     * and running {@code sums} and {@code sumf} in {@code acc}; {@code subSums} holds the
     * activations' sum of each sub-block. A method of its own: inlined into
     * the tile, past C2's node budget, its vector conversions were not intrinsified.
     */
    private static void scaleSuperBlock(SuperBlockGroups m, int[] sums, float[] acc, float[] minTerms, int group, int ng, QuantizedActivations a,
                                        float[] subSums, int v, int nv, int b) {
        int K = m.cols, nsb = K / KQuants.QK_K, S = m.subBlocks, pairs = SUPER_BLOCK_PAIRS;
        // the sub-block sums of the tile's vectors (a vector past nv repeats the last; it is not stored)
        int a0 = (v * nsb + b) * S, a1 = ((v + Math.min(1, nv - 1)) * nsb + b) * S;
        int a2 = ((v + Math.min(2, nv - 1)) * nsb + b) * S, a3 = ((v + Math.min(3, nv - 1)) * nsb + b) * S;
        for (int t = 0; t < ng; t++) {
            int sb = (group + t) * nsb + b;
            FloatVector d = FloatVector.fromArray(F, m.d, sb * L);
            for (int u = 0; u < nv; u++) {
                int p = (t * TILE_VECTORS + u) * L;
                FloatVector isum = (FloatVector) IntVector.fromArray(SUM, sums, p).convert(VectorOperators.I2F, 0);
                d.mul(a.d[(v + u) * nsb + b]).mul(isum).add(FloatVector.fromArray(F, acc, p)).intoArray(acc, p);
            }
            if (!m.withMins) continue; // Q6_K: its sumf stays 0
            // summs of the four vectors at once, each mins vector widened once and kept in registers
            FloatVector m0 = FloatVector.zero(F), m1 = m0, m2 = m0, m3 = m0;
            for (int j = 0; j < S; j++) {
                FloatVector mj = m.subBlockFloats(m.mins, sb, j);
                m0 = mj.fma(FloatVector.broadcast(F, subSums[a0 + j]), m0);
                m1 = mj.fma(FloatVector.broadcast(F, subSums[a1 + j]), m1);
                m2 = mj.fma(FloatVector.broadcast(F, subSums[a2 + j]), m2);
                m3 = mj.fma(FloatVector.broadcast(F, subSums[a3 + j]), m3);
            }
            // through memory to the real vectors' sums: a vector picked by index would be boxed
            m0.intoArray(minTerms, 0);
            m1.intoArray(minTerms, L);
            m2.intoArray(minTerms, 2 * L);
            m3.intoArray(minTerms, 3 * L);
            FloatVector dmin = FloatVector.fromArray(F, m.dmin, sb * L);
            for (int u = 0; u < nv; u++) {
                int p = pairs * L + (t * TILE_VECTORS + u) * L;
                FloatVector summs = FloatVector.fromArray(F, minTerms, u * L);
                FloatVector.fromArray(F, acc, p).sub(dmin.mul(a.d[(v + u) * nsb + b]).mul(summs)).intoArray(acc, p);
            }
        }
    }

    private static final ThreadLocal<HalfGroups> halfWindow = new ThreadLocal<>();

    /** This thread's window of {@code groups} F16 or BF16 groups for a matrix left in the mapping. */
    static HalfGroups halfWindow(boolean bf16, int cols, int groups) {
        HalfGroups w = halfWindow.get();
        if (w == null || w.bf16 != bf16 || w.cols != cols || w.groups != groups) {
            w = new HalfGroups(bf16, cols, groups);
            halfWindow.set(w);
        }
        return w;
    }

    /** {@link #tile} without block scales: widened groups {@code i0, i1, i2} of {@code w} times vectors {@code v0..v3}. */
    private static void tileFloats(float[] w, int K, int outGroup, int i0, int i1, int i2,
                                   float[] x, int v0, int v1, int v2, int v3, float[] out, int stride) {
        int w0 = i0 * K * L, w1 = i1 * K * L, w2 = i2 * K * L;
        int x0 = v0 * K, x1 = v1 * K, x2 = v2 * K, x3 = v3 * K;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        for (int k = 0; k < K; k++) {
            FloatVector r0 = FloatVector.fromArray(F, w, w0 + k * L);
            FloatVector r1 = FloatVector.fromArray(F, w, w1 + k * L);
            FloatVector r2 = FloatVector.fromArray(F, w, w2 + k * L);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a00 = r0.fma(y, a00);
            a10 = r1.fma(y, a10);
            a20 = r2.fma(y, a20);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a01 = r0.fma(y, a01);
            a11 = r1.fma(y, a11);
            a21 = r2.fma(y, a21);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a02 = r0.fma(y, a02);
            a12 = r1.fma(y, a12);
            a22 = r2.fma(y, a22);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a03 = r0.fma(y, a03);
            a13 = r1.fma(y, a13);
            a23 = r2.fma(y, a23);
        }
        // stored here rather than by a shared method: twelve vectors passed to a call C2 does not inline are boxed
        int r0 = (outGroup + i0) * L, r1 = (outGroup + i1) * L, r2 = (outGroup + i2) * L;
        a00.intoArray(out, v0 * stride + r0);
        a10.intoArray(out, v0 * stride + r1);
        a20.intoArray(out, v0 * stride + r2);
        a01.intoArray(out, v1 * stride + r0);
        a11.intoArray(out, v1 * stride + r1);
        a21.intoArray(out, v1 * stride + r2);
        a02.intoArray(out, v2 * stride + r0);
        a12.intoArray(out, v2 * stride + r1);
        a22.intoArray(out, v2 * stride + r2);
        a03.intoArray(out, v3 * stride + r0);
        a13.intoArray(out, v3 * stride + r1);
        a23.intoArray(out, v3 * stride + r2);
    }

    /** {@link #tileFloats} of two groups {@code i0, i1}, for 16 vector registers: eight sums, two rows and a broadcast. */
    private static void tileFloatsNarrow(float[] w, int K, int outGroup, int i0, int i1,
                                         float[] x, int v0, int v1, int v2, int v3, float[] out, int stride) {
        int w0 = i0 * K * L, w1 = i1 * K * L;
        int x0 = v0 * K, x1 = v1 * K, x2 = v2 * K, x3 = v3 * K;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int k = 0; k < K; k++) {
            FloatVector r0 = FloatVector.fromArray(F, w, w0 + k * L);
            FloatVector r1 = FloatVector.fromArray(F, w, w1 + k * L);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a00 = r0.fma(y, a00);
            a10 = r1.fma(y, a10);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a01 = r0.fma(y, a01);
            a11 = r1.fma(y, a11);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a02 = r0.fma(y, a02);
            a12 = r1.fma(y, a12);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a03 = r0.fma(y, a03);
            a13 = r1.fma(y, a13);
        }
        int r0 = (outGroup + i0) * L, r1 = (outGroup + i1) * L;
        a00.intoArray(out, v0 * stride + r0);
        a10.intoArray(out, v0 * stride + r1);
        a01.intoArray(out, v1 * stride + r0);
        a11.intoArray(out, v1 * stride + r1);
        a02.intoArray(out, v2 * stride + r0);
        a12.intoArray(out, v2 * stride + r1);
        a03.intoArray(out, v3 * stride + r0);
        a13.intoArray(out, v3 * stride + r1);
    }

    /** This thread's window of {@code groups} groups for a matrix left in the mapping. */
    private static RowGroups window(Int8BlockKernel kernel, int cols, int groups) {
        RowGroups w = window.get();
        if (w == null || w.kernel != kernel || w.cols != cols || w.groups != groups) {
            w = new RowGroups(kernel, cols, groups);
            window.set(w);
        }
        return w;
    }

    /**
     * Unpacked groups {@code i0, i1, i2} of {@code w} (group {@code i} at {@code i * K * L}, whose
     * scales are those of group {@code scaleGroup + i} in {@code scales} and whose rows are those of
     * group {@code outGroup + i} in {@code out}) times vectors {@code v0..v3} of {@code x}.
     */
    private static void tile(float[] w, int K, float[] scales, int scaleGroup, int outGroup, int i0, int i1, int i2,
                             float[] x, float[] xd, int v0, int v1, int v2, int v3, float[] out, int stride) {
        int nb = K / QK;
        int w0 = i0 * K * L, w1 = i1 * K * L, w2 = i2 * K * L;
        int s0 = (scaleGroup + i0) * nb * L, s1 = (scaleGroup + i1) * nb * L, s2 = (scaleGroup + i2) * nb * L;
        int x0 = v0 * K, x1 = v1 * K, x2 = v2 * K, x3 = v3 * K;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        for (int b = 0; b < nb; b++) {
            FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
            FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
            for (int k = b * QK; k < b * QK + QK; k++) {
                FloatVector r0 = FloatVector.fromArray(F, w, w0 + k * L);
                FloatVector r1 = FloatVector.fromArray(F, w, w1 + k * L);
                FloatVector r2 = FloatVector.fromArray(F, w, w2 + k * L);
                FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
                c00 = r0.fma(y, c00);
                c10 = r1.fma(y, c10);
                c20 = r2.fma(y, c20);
                y = FloatVector.broadcast(F, x[x1 + k]);
                c01 = r0.fma(y, c01);
                c11 = r1.fma(y, c11);
                c21 = r2.fma(y, c21);
                y = FloatVector.broadcast(F, x[x2 + k]);
                c02 = r0.fma(y, c02);
                c12 = r1.fma(y, c12);
                c22 = r2.fma(y, c22);
                y = FloatVector.broadcast(F, x[x3 + k]);
                c03 = r0.fma(y, c03);
                c13 = r1.fma(y, c13);
                c23 = r2.fma(y, c23);
            }
            FloatVector d0 = FloatVector.fromArray(F, scales, s0 + b * L);
            FloatVector d1 = FloatVector.fromArray(F, scales, s1 + b * L);
            FloatVector d2 = FloatVector.fromArray(F, scales, s2 + b * L);
            float e = xd[v0 * nb + b];
            a00 = c00.fma(d0.mul(e), a00);
            a10 = c10.fma(d1.mul(e), a10);
            a20 = c20.fma(d2.mul(e), a20);
            e = xd[v1 * nb + b];
            a01 = c01.fma(d0.mul(e), a01);
            a11 = c11.fma(d1.mul(e), a11);
            a21 = c21.fma(d2.mul(e), a21);
            e = xd[v2 * nb + b];
            a02 = c02.fma(d0.mul(e), a02);
            a12 = c12.fma(d1.mul(e), a12);
            a22 = c22.fma(d2.mul(e), a22);
            e = xd[v3 * nb + b];
            a03 = c03.fma(d0.mul(e), a03);
            a13 = c13.fma(d1.mul(e), a13);
            a23 = c23.fma(d2.mul(e), a23);
        }
        int r0 = (outGroup + i0) * L, r1 = (outGroup + i1) * L, r2 = (outGroup + i2) * L;
        a00.intoArray(out, v0 * stride + r0);
        a10.intoArray(out, v0 * stride + r1);
        a20.intoArray(out, v0 * stride + r2);
        a01.intoArray(out, v1 * stride + r0);
        a11.intoArray(out, v1 * stride + r1);
        a21.intoArray(out, v1 * stride + r2);
        a02.intoArray(out, v2 * stride + r0);
        a12.intoArray(out, v2 * stride + r1);
        a22.intoArray(out, v2 * stride + r2);
        a03.intoArray(out, v3 * stride + r0);
        a13.intoArray(out, v3 * stride + r1);
        a23.intoArray(out, v3 * stride + r2);
    }

    /** {@link #tile} of two groups {@code i0, i1} by two vectors {@code v0, v1}, for 16 vector registers: four block sums, four row sums. */
    private static void tileNarrow(float[] w, int K, float[] scales, int scaleGroup, int outGroup, int i0, int i1,
                                   float[] x, float[] xd, int v0, int v1, float[] out, int stride) {
        int nb = K / QK;
        int w0 = i0 * K * L, w1 = i1 * K * L;
        int s0 = (scaleGroup + i0) * nb * L, s1 = (scaleGroup + i1) * nb * L;
        int x0 = v0 * K, x1 = v1 * K;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00;
        for (int b = 0; b < nb; b++) {
            FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00;
            for (int k = b * QK; k < b * QK + QK; k++) {
                FloatVector r0 = FloatVector.fromArray(F, w, w0 + k * L);
                FloatVector r1 = FloatVector.fromArray(F, w, w1 + k * L);
                FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
                c00 = r0.fma(y, c00);
                c10 = r1.fma(y, c10);
                y = FloatVector.broadcast(F, x[x1 + k]);
                c01 = r0.fma(y, c01);
                c11 = r1.fma(y, c11);
            }
            FloatVector d0 = FloatVector.fromArray(F, scales, s0 + b * L);
            FloatVector d1 = FloatVector.fromArray(F, scales, s1 + b * L);
            float e = xd[v0 * nb + b];
            a00 = c00.fma(d0.mul(e), a00);
            a10 = c10.fma(d1.mul(e), a10);
            e = xd[v1 * nb + b];
            a01 = c01.fma(d0.mul(e), a01);
            a11 = c11.fma(d1.mul(e), a11);
        }
        int r0 = (outGroup + i0) * L, r1 = (outGroup + i1) * L;
        a00.intoArray(out, v0 * stride + r0);
        a10.intoArray(out, v0 * stride + r1);
        a01.intoArray(out, v1 * stride + r0);
        a11.intoArray(out, v1 * stride + r1);
    }
}
