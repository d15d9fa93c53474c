package dev.pcwmesh.bench;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.kernel.TypeKernel;
import dev.pcwmesh.runtime.kernel.WeightMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One weight matrix times activations, per tensor type: a single vector ({@link #matVec}, the
 * decode step, bound by memory bandwidth) and a batch of tokens ({@link #matMul}, prefill, bound by
 * arithmetic). The shapes are the FFN down-projections of the SmolLM2-135M and Qwen2.5-0.5B
 * shapes that issue 6's table measures (their rows are whole K-quant super-blocks of 256). Bytes/s of a mat-vec is rows x row bytes / time; compare with the
 * machine's read bandwidth ({@code pcw bench --bandwidth}).
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar bench/target/benchmarks.jar MatVec -p type=Q8_0</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatVecBenchmark {
    @Param({"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String type;

    /** rows x columns: SmolLM2-135M's 576 x 1536 and Qwen2.5-0.5B's 896 x 4864. */
    @Param({"576x1536", "896x4864"})
    public String shape;

    /** Tokens in a batch for {@link #matMul}. */
    @Param({"64"})
    public int batch;

    private Arena arena;
    private WeightMatrix weights;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
        GgmlType t = GgmlType.valueOf(type);
        TypeKernel kernel = TypeKernel.of(t);
        SplittableRandom rng = new SplittableRandom(42);
        float[] values = new float[cols];
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate(t.bytesFor((long) rows * cols), 64);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) values[c] = (float) rng.nextGaussian() * 0.02f;
            kernel.quantize(values, 0, cols, data, (long) r * cols);
        }
        weights = new WeightMatrix("bench", t, data, rows, cols);
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        out = new float[batch * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matVec() {
        weights.matVec(x, out);
        return out;
    }

    @Benchmark
    public float[] matMul() {
        weights.matMul(x, batch, out);
        return out;
    }
}
