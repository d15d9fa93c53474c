package dev.pcwmesh.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API ({@code libcuda.so.1}) through FFM: the calls the backend makes, each
 * checked, a failure thrown as a {@link CudaException} naming the call and CUDA's error name.
 * Device pointers are {@code long}s; contexts, streams, events, modules and functions are
 * {@link MemorySegment} addresses. Symbols are the ones the CUDA headers map the API names to
 * ({@code cuMemAlloc} is {@code cuMemAlloc_v2}), which every driver since CUDA 4 exports.
 */
final class CudaDriver {
    static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    static final int CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
            cuDeviceGetAttribute, cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuMemGetInfo,
            cuMemAlloc, cuMemFree, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD32Async,
            cuStreamCreate, cuStreamSynchronize, cuStreamDestroy, cuEventCreate, cuEventRecord, cuEventSynchronize,
            cuEventElapsedTime, cuEventDestroy, cuModuleLoadData, cuModuleGetFunction, cuLaunchKernel,
            cuGetErrorName, cuStreamBeginCapture, cuStreamEndCapture, cuGraphInstantiate, cuGraphLaunch, cuGraphExecDestroy,
            cuGraphDestroy, cuMemAllocHost, cuMemFreeHost, cuFuncSetAttribute, cuLaunchKernelEx;

    CudaDriver() {
        NativeCalls lib = new NativeCalls("libcuda", CudaLibraries.open("the CUDA driver", "libcuda"));
        cuInit = lib.status("cuInit", JAVA_INT);
        cuDriverGetVersion = lib.status("cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = lib.status("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = lib.status("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = lib.status("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = lib.status("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = lib.status("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRetain = lib.status("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuCtxSetCurrent = lib.status("cuCtxSetCurrent", ADDRESS);
        cuMemGetInfo = lib.status("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuMemAlloc = lib.status("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = lib.status("cuMemFree_v2", JAVA_LONG);
        cuMemcpyHtoDAsync = lib.status("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = lib.status("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = lib.status("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD32Async = lib.status("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
        cuStreamCreate = lib.status("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamSynchronize = lib.status("cuStreamSynchronize", ADDRESS);
        cuStreamDestroy = lib.status("cuStreamDestroy_v2", ADDRESS);
        cuEventCreate = lib.status("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = lib.status("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = lib.status("cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = lib.status(List.of("cuEventElapsedTime_v2", "cuEventElapsedTime"), ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = lib.status("cuEventDestroy_v2", ADDRESS);
        cuModuleLoadData = lib.status("cuModuleLoadData", ADDRESS, ADDRESS);
        cuModuleGetFunction = lib.status("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuFuncSetAttribute = lib.status("cuFuncSetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuLaunchKernelEx = lib.status("cuLaunchKernelEx", ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        cuLaunchKernel = lib.status("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuGetErrorName = lib.status("cuGetErrorName", JAVA_INT, ADDRESS);
        cuStreamBeginCapture = lib.status(List.of("cuStreamBeginCapture_v2", "cuStreamBeginCapture"), ADDRESS, JAVA_INT);
        cuStreamEndCapture = lib.status("cuStreamEndCapture", ADDRESS, ADDRESS);
        cuGraphInstantiate = lib.status("cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG);
        cuGraphLaunch = lib.status("cuGraphLaunch", ADDRESS, ADDRESS);
        cuGraphExecDestroy = lib.status("cuGraphExecDestroy", ADDRESS);
        cuGraphDestroy = lib.status("cuGraphDestroy", ADDRESS);
        cuMemAllocHost = lib.status("cuMemAllocHost_v2", ADDRESS, JAVA_LONG);
        cuMemFreeHost = lib.status("cuMemFreeHost", ADDRESS);
    }

    void check(int result, String call) {
        if (result == 0) return;
        String name = "CUresult " + result;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            if ((int) cuGetErrorName.invokeExact(result, p) == 0) {
                name = p.get(ADDRESS, 0).reinterpret(256).getString(0);
            }
        } catch (Throwable ignored) {
            // keep the number
        }
        throw new CudaException(call + " failed: " + name);
    }

    private static CudaException wrap(String call, Throwable t) {
        return t instanceof CudaException c ? c : new CudaException(call + " could not be called: " + t, t);
    }

    void init() {
        try { check((int) cuInit.invokeExact(0), "cuInit"); } catch (Throwable t) { throw wrap("cuInit", t); }
    }

    int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDriverGetVersion.invokeExact(v), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw wrap("cuDriverGetVersion", t); }
    }

    int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetCount.invokeExact(v), "cuDeviceGetCount");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw wrap("cuDeviceGetCount", t); }
    }

    int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGet.invokeExact(v, ordinal), "cuDeviceGet");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw wrap("cuDeviceGet", t); }
    }

    String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(v, 256, device), "cuDeviceGetName");
            return v.getString(0);
        } catch (Throwable t) { throw wrap("cuDeviceGetName", t); }
    }

    int attribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetAttribute.invokeExact(v, attribute, device), "cuDeviceGetAttribute");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw wrap("cuDeviceGetAttribute", t); }
    }

    long totalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            check((int) cuDeviceTotalMem.invokeExact(v, device), "cuDeviceTotalMem");
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw wrap("cuDeviceTotalMem", t); }
    }

    MemorySegment retainPrimaryContext(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(v, device), "cuDevicePrimaryCtxRetain");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) { throw wrap("cuDevicePrimaryCtxRetain", t); }
    }

    void setCurrent(MemorySegment context) {
        try { check((int) cuCtxSetCurrent.invokeExact(context), "cuCtxSetCurrent"); } catch (Throwable t) { throw wrap("cuCtxSetCurrent", t); }
    }

    /** {free, total} bytes of device memory. */
    long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG), total = a.allocate(JAVA_LONG);
            check((int) cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo");
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) { throw wrap("cuMemGetInfo", t); }
    }

    long malloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            check((int) cuMemAlloc.invokeExact(v, Math.max(bytes, 1L)), "cuMemAlloc(" + bytes + " bytes)");
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw wrap("cuMemAlloc", t); }
    }

    /** Page-locked host memory: copies to and from it run at full speed and truly asynchronously. */
    MemorySegment hostAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            check((int) cuMemAllocHost.invokeExact(v, Math.max(bytes, 1L)), "cuMemAllocHost(" + bytes + " bytes)");
            return v.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) { throw wrap("cuMemAllocHost", t); }
    }

    void hostFree(MemorySegment pointer) {
        try { check((int) cuMemFreeHost.invokeExact(pointer), "cuMemFreeHost"); } catch (Throwable t) { throw wrap("cuMemFreeHost", t); }
    }

    void free(long pointer) {
        try { check((int) cuMemFree.invokeExact(pointer), "cuMemFree"); } catch (Throwable t) { throw wrap("cuMemFree", t); }
    }

    void copyToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try { check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync"); }
        catch (Throwable t) { throw wrap("cuMemcpyHtoDAsync", t); }
    }

    void copyToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try { check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync"); }
        catch (Throwable t) { throw wrap("cuMemcpyDtoHAsync", t); }
    }

    void copyOnDevice(long dst, long src, long bytes, MemorySegment stream) {
        try { check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync"); }
        catch (Throwable t) { throw wrap("cuMemcpyDtoDAsync", t); }
    }

    void fill32(long dst, int value, long count, MemorySegment stream) {
        try { check((int) cuMemsetD32Async.invokeExact(dst, value, count, stream), "cuMemsetD32Async"); }
        catch (Throwable t) { throw wrap("cuMemsetD32Async", t); }
    }

    MemorySegment createStream() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            check((int) cuStreamCreate.invokeExact(v, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) { throw wrap("cuStreamCreate", t); }
    }

    void synchronize(MemorySegment stream) {
        try { check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize"); } catch (Throwable t) { throw wrap("cuStreamSynchronize", t); }
    }

    void destroyStream(MemorySegment stream) {
        try { check((int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy"); } catch (Throwable t) { throw wrap("cuStreamDestroy", t); }
    }

    MemorySegment createEvent() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            check((int) cuEventCreate.invokeExact(v, 0), "cuEventCreate");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) { throw wrap("cuEventCreate", t); }
    }

    void record(MemorySegment event, MemorySegment stream) {
        try { check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord"); } catch (Throwable t) { throw wrap("cuEventRecord", t); }
    }

    /** Milliseconds between two recorded events, after waiting for the second. */
    float elapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            check((int) cuEventSynchronize.invokeExact(end), "cuEventSynchronize");
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            check((int) cuEventElapsedTime.invokeExact(ms, start, end), "cuEventElapsedTime");
            return ms.get(JAVA_FLOAT, 0);
        } catch (Throwable t) { throw wrap("cuEventElapsedTime", t); }
    }

    void destroyEvent(MemorySegment event) {
        try { check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy"); } catch (Throwable t) { throw wrap("cuEventDestroy", t); }
    }

    /** Starts recording the work queued on {@code stream} into a graph instead of running it (this thread's calls only). */
    void beginCapture(MemorySegment stream) {
        try { check((int) cuStreamBeginCapture.invokeExact(stream, 1 /* CU_STREAM_CAPTURE_MODE_THREAD_LOCAL */), "cuStreamBeginCapture"); }
        catch (Throwable t) { throw wrap("cuStreamBeginCapture", t); }
    }

    /** Ends the capture and instantiates the graph; returns the executable graph (the graph itself is freed). */
    MemorySegment endCapture(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment graph = a.allocate(ADDRESS), exec = a.allocate(ADDRESS);
            check((int) cuStreamEndCapture.invokeExact(stream, graph), "cuStreamEndCapture");
            MemorySegment g = graph.get(ADDRESS, 0);
            try {
                check((int) cuGraphInstantiate.invokeExact(exec, g, 0L), "cuGraphInstantiate");
            } finally {
                int ignored = (int) cuGraphDestroy.invokeExact(g);
            }
            return exec.get(ADDRESS, 0);
        } catch (Throwable t) { throw wrap("cuStreamEndCapture", t); }
    }

    void launchGraph(MemorySegment exec, MemorySegment stream) {
        try { check((int) cuGraphLaunch.invokeExact(exec, stream), "cuGraphLaunch"); } catch (Throwable t) { throw wrap("cuGraphLaunch", t); }
    }

    void destroyGraph(MemorySegment exec) {
        try { check((int) cuGraphExecDestroy.invokeExact(exec), "cuGraphExecDestroy"); } catch (Throwable t) { throw wrap("cuGraphExecDestroy", t); }
    }

    /** Loads a cubin or NUL-terminated PTX image. */
    MemorySegment loadModule(byte[] image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            MemorySegment img = a.allocate(image.length + 1L);
            img.copyFrom(MemorySegment.ofArray(image));
            check((int) cuModuleLoadData.invokeExact(v, img), "cuModuleLoadData");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) { throw wrap("cuModuleLoadData", t); }
    }

    MemorySegment function(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            check((int) cuModuleGetFunction.invokeExact(v, module, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) { throw wrap("cuModuleGetFunction", t); }
    }

    /** Sets attribute {@code attribute} of kernel {@code function} (for example the dynamic shared memory it may take). */
    void setFunctionAttribute(MemorySegment function, int attribute, int value) {
        try { check((int) cuFuncSetAttribute.invokeExact(function, attribute, value), "cuFuncSetAttribute"); }
        catch (Throwable t) { throw wrap("cuFuncSetAttribute", t); }
    }

    /** Launches {@code function}; {@code params} holds one pointer per kernel argument, each to the argument's value. */
    void launch(MemorySegment function, int gridX, int gridY, int blockX, int sharedBytes, MemorySegment stream,
                MemorySegment params, String name) {
        try {
            check((int) cuLaunchKernel.invokeExact(function, gridX, gridY, 1, blockX, 1, 1, sharedBytes, stream, params,
                    MemorySegment.NULL), "cuLaunchKernel(" + name + ")");
        } catch (Throwable t) { throw wrap("cuLaunchKernel", t); }
    }

    /**
     * {@link #launch} as a programmatic dependent launch (cuLaunchKernelEx with
     * CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION): the kernel may begin before the
     * previous one on the stream has finished, and waits for it itself (griddepcontrol.wait).
     * The structs are cuda.h's CUlaunchConfig (56 bytes: six grid and block sizes and the shared
     * bytes as 32-bit words, the stream at 32, the attributes at 40, their count at 48) and one
     * CUlaunchAttribute (72 bytes: the id, then at 8 a 64-byte value whose first int is the flag).
     */
    void launchProgrammatic(MemorySegment function, int gridX, int gridY, int blockX, int sharedBytes, MemorySegment stream,
                            MemorySegment params, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attribute = a.allocate(72, 8);
            attribute.set(JAVA_INT, 0, CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
            attribute.set(JAVA_INT, 8, 1);
            MemorySegment config = a.allocate(56, 8);
            int[] sizes = {gridX, gridY, 1, blockX, 1, 1, sharedBytes};
            for (int i = 0; i < sizes.length; i++) config.set(JAVA_INT, 4L * i, sizes[i]);
            config.set(ADDRESS, 32, stream);
            config.set(ADDRESS, 40, attribute);
            config.set(JAVA_INT, 48, 1);
            check((int) cuLaunchKernelEx.invokeExact(config, function, params, MemorySegment.NULL), "cuLaunchKernelEx(" + name + ")");
        } catch (Throwable t) { throw wrap("cuLaunchKernelEx", t); }
    }
}
