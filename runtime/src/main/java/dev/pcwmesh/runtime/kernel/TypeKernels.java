package dev.pcwmesh.runtime.kernel;

import dev.pcwmesh.runtime.gguf.GgmlType;
import dev.pcwmesh.runtime.gguf.GgufException;

import java.util.EnumMap;
import java.util.Map;

/** The table of kernels by tensor type. */
final class TypeKernels {
    private static final Map<GgmlType, TypeKernel> KERNELS = new EnumMap<>(GgmlType.class);

    static {
        register(new F32Kernel());
    }

    private static void register(TypeKernel k) { KERNELS.put(k.type(), k); }

    static TypeKernel of(GgmlType type) {
        TypeKernel k = KERNELS.get(type);
        if (k == null) throw new GgufException("unsupported tensor type " + type + ": the runtime has no kernel for it");
        return k;
    }

    private TypeKernels() {}
}
