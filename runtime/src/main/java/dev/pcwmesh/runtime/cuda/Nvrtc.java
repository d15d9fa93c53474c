package dev.pcwmesh.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NVRTC, CUDA's run-time compiler, through FFM: CUDA C source to a cubin for a device's compute
 * capability, or to PTX for the driver to finish when this NVRTC does not know the device.
 * Needs no GPU, so the kernel sources are compile-checked wherever NVRTC is installed.
 */
public final class Nvrtc {
    /** A compiled image: a cubin (machine code) or PTX text. */
    public record Image(byte[] bytes, boolean cubin, String target, String log) {}

    private final MethodHandle nvrtcVersion, nvrtcCreateProgram, nvrtcCompileProgram, nvrtcGetProgramLogSize,
            nvrtcGetProgramLog, nvrtcGetCUBINSize, nvrtcGetCUBIN, nvrtcGetPTXSize, nvrtcGetPTX, nvrtcDestroyProgram,
            nvrtcGetErrorString;

    public Nvrtc() {
        NativeCalls lib = new NativeCalls("libnvrtc", CudaLibraries.open("NVRTC, the CUDA run-time compiler", "libnvrtc"));
        nvrtcVersion = lib.status("nvrtcVersion", ADDRESS, ADDRESS);
        nvrtcCreateProgram = lib.status("nvrtcCreateProgram", ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        nvrtcCompileProgram = lib.status("nvrtcCompileProgram", ADDRESS, JAVA_INT, ADDRESS);
        nvrtcGetProgramLogSize = lib.status("nvrtcGetProgramLogSize", ADDRESS, ADDRESS);
        nvrtcGetProgramLog = lib.status("nvrtcGetProgramLog", ADDRESS, ADDRESS);
        nvrtcGetCUBINSize = lib.status("nvrtcGetCUBINSize", ADDRESS, ADDRESS);
        nvrtcGetCUBIN = lib.status("nvrtcGetCUBIN", ADDRESS, ADDRESS);
        nvrtcGetPTXSize = lib.status("nvrtcGetPTXSize", ADDRESS, ADDRESS);
        nvrtcGetPTX = lib.status("nvrtcGetPTX", ADDRESS, ADDRESS);
        nvrtcDestroyProgram = lib.status("nvrtcDestroyProgram", ADDRESS);
        nvrtcGetErrorString = lib.handle("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** "major.minor" of this NVRTC. */
    public String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(JAVA_INT), minor = a.allocate(JAVA_INT);
            check((int) nvrtcVersion.invokeExact(major, minor), "nvrtcVersion");
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        } catch (Throwable t) { throw wrap(t); }
    }

    /**
     * Compiles {@code source} for compute capability {@code major.minor}: a cubin for
     * {@code sm_XY} when this NVRTC can make one, else PTX for {@code compute_XY}.
     */
    public Image compile(String source, String name, int major, int minor) {
        String arch = "" + major + minor;
        try {
            return compile(source, name, "sm_" + arch, true);
        } catch (CudaException e) {
            if (!e.getMessage().contains("NVRTC_ERROR_INVALID_OPTION")) throw e;
            return compile(source, name, "compute_" + arch, false);
        }
    }

    /** Compiles to PTX for a virtual architecture ({@code compute_XY}); needs no GPU. */
    public Image compilePtx(String source, String name, String virtualArch) {
        return compile(source, name, virtualArch, false);
    }

    private Image compile(String source, String name, String target, boolean cubin) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment prog = a.allocate(ADDRESS);
            check((int) nvrtcCreateProgram.invokeExact(prog, a.allocateFrom(source), a.allocateFrom(name), 0,
                    MemorySegment.NULL, MemorySegment.NULL), "nvrtcCreateProgram");
            MemorySegment program = prog.get(ADDRESS, 0);
            try {
                List<String> options = List.of("--gpu-architecture=" + target);
                MemorySegment opts = a.allocate(ADDRESS, options.size());
                for (int i = 0; i < options.size(); i++) opts.setAtIndex(ADDRESS, i, a.allocateFrom(options.get(i)));
                int compiled = (int) nvrtcCompileProgram.invokeExact(program, options.size(), opts);
                String log = log(program, a);
                if (compiled != 0) {
                    throw new CudaException("NVRTC could not compile " + name + " for " + target + ": " + error(compiled)
                            + (log.isBlank() ? "" : "\n" + log));
                }
                MemorySegment size = a.allocate(JAVA_LONG);
                byte[] bytes;
                if (cubin) {
                    check((int) nvrtcGetCUBINSize.invokeExact(program, size), "nvrtcGetCUBINSize");
                    MemorySegment out = a.allocate(size.get(JAVA_LONG, 0));
                    check((int) nvrtcGetCUBIN.invokeExact(program, out), "nvrtcGetCUBIN");
                    bytes = out.toArray(JAVA_BYTE);
                } else {
                    check((int) nvrtcGetPTXSize.invokeExact(program, size), "nvrtcGetPTXSize");
                    MemorySegment out = a.allocate(size.get(JAVA_LONG, 0));
                    check((int) nvrtcGetPTX.invokeExact(program, out), "nvrtcGetPTX");
                    bytes = out.toArray(JAVA_BYTE);
                }
                return new Image(bytes, cubin, target, log);
            } finally {
                int ignored = (int) nvrtcDestroyProgram.invokeExact(prog);
            }
        } catch (Throwable t) { throw wrap(t); }
    }

    private String log(MemorySegment program, Arena a) throws Throwable {
        MemorySegment size = a.allocate(JAVA_LONG);
        check((int) nvrtcGetProgramLogSize.invokeExact(program, size), "nvrtcGetProgramLogSize");
        long n = size.get(JAVA_LONG, 0);
        if (n <= 1) return "";
        MemorySegment text = a.allocate(n);
        check((int) nvrtcGetProgramLog.invokeExact(program, text), "nvrtcGetProgramLog");
        return text.getString(0);
    }

    private String error(int code) {
        try {
            return ((MemorySegment) nvrtcGetErrorString.invokeExact(code)).reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "nvrtcResult " + code;
        }
    }

    private void check(int result, String call) {
        if (result != 0) throw new CudaException(call + " failed: " + error(result));
    }

    private static CudaException wrap(Throwable t) {
        return t instanceof CudaException c ? c : new CudaException("NVRTC could not be called: " + t, t);
    }
}
