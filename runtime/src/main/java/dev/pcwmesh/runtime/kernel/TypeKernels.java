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
        register(new F16Kernel());
        register(new BF16Kernel());
        register(new Q8_0Kernel());
        register(new Q4_0Kernel());
        register(new Q4_1Kernel());
        register(new Q5_0Kernel());
        register(new Q5_1Kernel());
        register(new Q4_KKernel());
        register(new Q5_KKernel());
        register(new Q6_KKernel());
    }

    private static void register(TypeKernel k) { KERNELS.put(k.type(), k); }

    static TypeKernel of(GgmlType type) {
        TypeKernel k = KERNELS.get(type);
        if (k == null) throw new GgufException("unsupported tensor type " + type + ": the runtime has no kernel for it");
        return k;
    }

    private TypeKernels() {}
}
