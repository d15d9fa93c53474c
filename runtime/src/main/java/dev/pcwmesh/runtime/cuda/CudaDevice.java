package dev.pcwmesh.runtime.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The GPU this process uses (device {@code PCW_CUDA_DEVICE}, default 0): the driver, its primary
 * context, and our kernels ({@code kernels.cu}), compiled by NVRTC for the device's compute
 * capability at first use and cached on disk under {@code ~/.cache/pcw-mesh/cuda} (or
 * {@code PCW_CUDA_CACHE}), keyed by the source, the target and NVRTC's version.
 */
public final class CudaDevice {
    private static CudaDevice instance;
    private static CudaException failure;

    final CudaDriver driver;
    private final MemorySegment context;
    private final String name;
    private final int major, minor, multiprocessors;
    private final long memory;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final String kernelTarget;

    private CudaDevice() {
        driver = new CudaDriver();
        driver.init();
        int count = driver.deviceCount();
        int ordinal = Integer.parseInt(System.getenv().getOrDefault("PCW_CUDA_DEVICE", "0"));
        if (count == 0) throw new CudaException("the CUDA driver sees no GPU");
        if (ordinal >= count) throw new CudaException("PCW_CUDA_DEVICE=" + ordinal + " but the driver sees " + count + " GPU(s)");
        int device = driver.device(ordinal);
        context = driver.retainPrimaryContext(device);
        driver.setCurrent(context);
        name = driver.deviceName(device);
        major = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        minor = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        memory = driver.totalMemory(device);
        Nvrtc.Image image = kernelImage(major, minor);
        kernelTarget = image.target();
        MemorySegment module = driver.loadModule(image.bytes());
        for (String fn : KERNELS) functions.put(fn, driver.function(module, fn));
        // The matvec kernels hold their vector in dynamic shared memory: past the default 48 KiB
        // (12,288 columns) a kernel must opt in, up to what the device allows a block, less room
        // for the kernel's own shared variables.
        int sharedBytes = DEFAULT_SHARED_BYTES;
        int optIn = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN) - STATIC_SHARED_RESERVE;
        if (optIn > sharedBytes) {
            for (String fn : List.of("matvec", "matvec_gated", "matvec_qkv_rope")) {
                driver.setFunctionAttribute(functions.get(fn), CudaDriver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, optIn);
            }
            sharedBytes = optIn;
        }
        matVecSharedBytes = sharedBytes;
    }

    /** Dynamic shared memory any kernel may take without opting in. */
    static final int DEFAULT_SHARED_BYTES = 48 * 1024;
    /** Shared memory kept back for a kernel's static shared variables when it opts in to more. */
    private static final int STATIC_SHARED_RESERVE = 1024;
    private final int matVecSharedBytes;

    /** The widest vector, in floats, that the matvec kernels can hold in shared memory on this device. */
    int matVecMaxColumns() {
        return matVecSharedBytes / 4;
    }

    static final String[] KERNELS = {"convert_f32_f16", "convert_f32_bf16", "dequant_q8_0", "dequant_q4_0", "dequant_q4_k",
            "dequant_q6_k", "embed_rows", "rms_norm", "add_bias", "silu_mul", "store_rows", "rope", "attention_rows",
            "attention_tiled", "softmax_scores", "flash_attention_64", "flash_attention_128", "stage_kv_f16", "attention_split",
            "attention_merge", "matvec", "matvec_gated", "matvec_qkv_rope", "rope_store"};

    /** The device, opened at first use; a {@link CudaException} saying why when there is none. */
    public static synchronized CudaDevice get() {
        if (instance != null) return instance;
        if (failure != null) throw failure;
        try {
            instance = new CudaDevice();
            return instance;
        } catch (CudaException e) {
            failure = e;
            throw e;
        } catch (RuntimeException | LinkageError e) {
            failure = new CudaException("CUDA could not be started: " + e, e);
            throw failure;
        }
    }

    /** Whether a GPU is usable; {@link #unavailableReason()} says why not. */
    public static boolean available() {
        try {
            get();
            return true;
        } catch (CudaException e) {
            return false;
        }
    }

    public static String unavailableReason() {
        try {
            get();
            return "";
        } catch (CudaException e) {
            return e.getMessage();
        }
    }

    /** Makes this device's context current on the calling thread (every CUDA call needs it). */
    void makeCurrent() {
        driver.setCurrent(context);
    }

    public String name() { return name; }
    public String computeCapability() { return major + "." + minor; }
    /** Whether the tensor-core kernels (mma.sync m16n8k16, compute capability 8.0 and later) run here. */
    boolean hasTensorCoreKernels() { return major >= 8; }
    public int multiprocessors() { return multiprocessors; }
    public long memoryBytes() { return memory; }
    /** What the kernels were compiled to: {@code sm_XY} (cubin) or {@code compute_XY} (PTX for the driver). */
    public String kernelTarget() { return kernelTarget; }

    public String describe() {
        return name + " (compute " + computeCapability() + ", " + multiprocessors + " SMs, " + (memory >> 20) + " MiB, kernels "
                + kernelTarget + ", driver " + driver.driverVersion() + ")";
    }

    // ---- kernels -----------------------------------------------------------------------------

    static String kernelSource() {
        try (InputStream in = CudaDevice.class.getResourceAsStream("kernels.cu")) {
            if (in == null) throw new IllegalStateException("kernels.cu is missing from the runtime jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Nvrtc.Image kernelImage(int major, int minor) {
        String source = kernelSource();
        Nvrtc nvrtc = new Nvrtc();
        String version = nvrtc.version();
        Path dir = cacheDir();
        String key = sha256(source + "\n" + major + "." + minor + "\n" + version);
        for (String kind : new String[] {"cubin", "ptx"}) {
            Path cached = dir.resolve(key + "." + kind);
            if (Files.isRegularFile(cached)) {
                try {
                    return new Nvrtc.Image(Files.readAllBytes(cached), kind.equals("cubin"),
                            (kind.equals("cubin") ? "sm_" : "compute_") + major + minor, "");
                } catch (IOException e) {
                    // compile again below
                }
            }
        }
        Nvrtc.Image image = nvrtc.compile(source, "kernels.cu", major, minor);
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, key, ".tmp");
            Files.write(tmp, image.bytes());
            Files.move(tmp, dir.resolve(key + (image.cubin() ? ".cubin" : ".ptx")), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // a cache we cannot write only costs a compile next time
        }
        return image;
    }

    private static Path cacheDir() {
        String env = System.getenv("PCW_CUDA_CACHE");
        if (env != null) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "pcw-mesh", "cuda");
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Launches kernel {@code name} on {@code stream} with {@code args} in order: {@code Long} for
     * device pointers and 64-bit integers, {@code Integer}, {@code Float}.
     */
    void launch(String name, int gridX, int gridY, int block, MemorySegment stream, Object... args) {
        launchShared(name, gridX, gridY, block, 0, stream, args);
    }

    /**
     * {@link #launch} with {@code sharedBytes} of dynamic shared memory: at most 48 KiB, or for the
     * matvec kernels {@link #matVecMaxColumns} floats.
     */
    void launchShared(String name, int gridX, int gridY, int block, int sharedBytes, MemorySegment stream, Object... args) {
        MemorySegment fn = functions.get(name);
        if (fn == null) throw new IllegalArgumentException("no kernel " + name);
        if (gridX == 0 || gridY == 0) return;
        if (args.length > MAX_ARGS) throw new IllegalArgumentException(name + ": more than " + MAX_ARGS + " arguments");
        SIGNATURES.check(name, args);
        LaunchBuffer b = launchBuffer.get();
        for (int i = 0; i < args.length; i++) {
            long slot = 8L * i;
            switch (args[i]) {
                case Long l -> b.values.set(JAVA_LONG, slot, l);
                case Integer n -> b.values.set(JAVA_INT, slot, n);
                case Float f -> b.values.set(JAVA_FLOAT, slot, f);
                default -> throw new IllegalArgumentException("kernel argument of type " + args[i].getClass());
            }
        }
        if (programmatic.get()) driver.launchProgrammatic(fn, gridX, gridY, block, sharedBytes, stream, b.pointers, name);
        else driver.launch(fn, gridX, gridY, block, sharedBytes, stream, b.pointers, name);
    }

    /** Whether this thread's launches are programmatic dependent launches (see {@link #withProgrammaticLaunches}). */
    private final ThreadLocal<Boolean> programmatic = ThreadLocal.withInitial(() -> false);

    /** Whether kernels here can be launched as programmatic dependents: compute capability 9.0 and later. */
    boolean hasProgrammaticLaunch() { return major >= 9; }

    void requireProgrammaticLaunch() {
        if (!hasProgrammaticLaunch()) {
            throw new CudaException("programmatic dependent launch needs compute capability 9.0, not " + computeCapability());
        }
    }

    /**
     * Runs {@code work} with this thread's kernel launches made as programmatic dependent launches:
     * each kernel may start while the one before it drains, and waits in await_previous_kernel
     * (kernels.cu) until that one's writes are visible; the gap between two small kernels shrinks.
     */
    void withProgrammaticLaunches(Runnable work) {
        requireProgrammaticLaunch();
        programmatic.set(true);
        try {
            work.run();
        } finally {
            programmatic.set(false);
        }
    }

    /** The kernels' parameter lists, read from the source: a launch whose arguments do not fit fails here, not on the GPU. */
    private static final KernelSignatures SIGNATURES = KernelSignatures.of(kernelSource());

    private static final int MAX_ARGS = 32;

    /**
     * A thread's kernel arguments: one 8-byte slot per argument and the array of pointers to the
     * slots that cuLaunchKernel takes (it copies the values before it returns), reused from launch
     * to launch so a launch allocates nothing.
     */
    private record LaunchBuffer(MemorySegment values, MemorySegment pointers) {
        static LaunchBuffer allocate() {
            Arena arena = Arena.ofAuto();
            MemorySegment values = arena.allocate(8L * MAX_ARGS, 8);
            MemorySegment pointers = arena.allocate(ADDRESS, MAX_ARGS);
            for (int i = 0; i < MAX_ARGS; i++) pointers.setAtIndex(ADDRESS, i, values.asSlice(8L * i, 8));
            return new LaunchBuffer(values, pointers);
        }
    }

    private static final ThreadLocal<LaunchBuffer> launchBuffer = ThreadLocal.withInitial(LaunchBuffer::allocate);

    /** Blocks of {@code block} threads covering {@code n} items. */
    static int blocks(long n, int block) {
        long b = (n + block - 1) / block;
        if (b > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " items are too many for one launch");
        return (int) b;
    }
}
