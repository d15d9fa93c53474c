package dev.pcwmesh.runtime.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameter lists of the kernels, read from their CUDA source, so that a launch is checked
 * before it reaches the GPU. cuLaunchKernel reads each argument at the width the kernel declares:
 * an {@code Integer} where the kernel takes a {@code long} leaves four stale bytes in the count
 * and no error until memory is corrupted. Pointers and {@code long} take a {@code Long},
 * {@code int} an {@code Integer}, {@code float} a {@code Float}.
 */
final class KernelSignatures {
    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)");

    private final Map<String, List<String>> parameters;

    private KernelSignatures(Map<String, List<String>> parameters) {
        this.parameters = parameters;
    }

    static KernelSignatures of(String source) {
        Map<String, List<String>> out = new HashMap<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) {
            List<String> params = new ArrayList<>();
            for (String p : m.group(2).split(",")) params.add(p.strip().replaceAll("\\s+", " "));
            out.put(m.group(1), params);
        }
        return new KernelSignatures(out);
    }

    List<String> parameters(String kernel) {
        List<String> p = parameters.get(kernel);
        if (p == null) throw new IllegalArgumentException("no kernel " + kernel + " in kernels.cu");
        return p;
    }

    /** Throws, naming the kernel and the parameter, where {@code args} do not fit the kernel's declaration. */
    void check(String kernel, Object[] args) {
        List<String> params = parameters(kernel);
        if (params.size() != args.length) {
            throw new IllegalArgumentException(kernel + " takes " + params.size() + " arguments, given " + args.length);
        }
        for (int i = 0; i < args.length; i++) {
            Class<?> wanted = javaType(params.get(i));
            if (args[i] == null || args[i].getClass() != wanted) {
                throw new IllegalArgumentException(kernel + " argument " + i + " (" + params.get(i) + ") takes a " + wanted.getSimpleName()
                        + ", given " + (args[i] == null ? "null" : args[i].getClass().getSimpleName()));
            }
        }
    }

    private static Class<?> javaType(String declaration) {
        if (declaration.contains("*")) return Long.class;
        String type = declaration.substring(0, declaration.lastIndexOf(' ')).replace("const ", "").strip();
        return switch (type) {
            case "long" -> Long.class;
            case "int" -> Integer.class;
            case "float" -> Float.class;
            default -> throw new IllegalStateException("kernel parameter of a type the launcher does not pass: " + declaration);
        };
    }
}
