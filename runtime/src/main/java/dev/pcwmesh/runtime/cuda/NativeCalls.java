package dev.pcwmesh.runtime.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Downcall handles into one native library, found by name with a clear error when a symbol is missing. */
final class NativeCalls {
    private final String library;
    private final SymbolLookup lookup;

    NativeCalls(String library, SymbolLookup lookup) {
        this.library = library;
        this.lookup = lookup;
    }

    /** A function returning a status code (CUresult, cublasStatus_t, nvrtcResult). */
    MethodHandle status(String name, MemoryLayout... args) {
        return handle(name, FunctionDescriptor.of(JAVA_INT, args));
    }

    /** The first of {@code names} the library has (for symbols a newer version renamed). */
    MethodHandle status(List<String> names, MemoryLayout... args) {
        for (String name : names) {
            if (lookup.find(name).isPresent()) return status(name, args);
        }
        throw new CudaException(library + " has none of the functions " + names);
    }

    MethodHandle handle(String name, FunctionDescriptor descriptor) {
        var symbol = lookup.find(name).orElseThrow(() -> new CudaException(library + " has no function " + name));
        return Linker.nativeLinker().downcallHandle(symbol, descriptor);
    }
}
