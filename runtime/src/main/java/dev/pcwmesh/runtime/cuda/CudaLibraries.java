package dev.pcwmesh.runtime.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the CUDA libraries where users have them: the driver's {@code libcuda.so.1} from the
 * system loader, and cuBLAS and NVRTC from {@code PCW_CUDA_LIBRARY_PATH}, {@code CUDA_HOME} /
 * {@code CUDA_PATH}, {@code LD_LIBRARY_PATH}, {@code /usr/local/cuda}, the system library
 * folders, or the {@code nvidia-*} Python wheels ({@code site-packages/nvidia/<lib>/lib}) of any
 * Python environment on the {@code PATH}. The newest so-version found wins.
 */
final class CudaLibraries {
    private CudaLibraries() {}

    /** A library opened for the life of the process. */
    static SymbolLookup open(String what, String baseName) {
        if (baseName.equals("libcuda")) {
            try {
                return SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            } catch (IllegalArgumentException e) {
                Optional<Path> found = find(baseName);
                if (found.isEmpty()) {
                    throw new CudaException("the NVIDIA driver library libcuda.so.1 was not found: is an NVIDIA driver installed? ("
                            + e.getMessage() + ")");
                }
                return SymbolLookup.libraryLookup(found.get(), Arena.global());
            }
        }
        Path path = find(baseName).orElseThrow(() -> new CudaException(what + " (" + baseName + ".so) was not found in "
                + searchFolders() + "; install the CUDA toolkit or the nvidia-* wheels, or set PCW_CUDA_LIBRARY_PATH"));
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new CudaException("cannot load " + path + ": " + e.getMessage(), e);
        }
    }

    /** The newest {@code baseName.so[.N...]} in the search folders. */
    static Optional<Path> find(String baseName) {
        Pattern name = Pattern.compile(Pattern.quote(baseName) + "\\.so(\\.\\d+)*");
        List<Path> candidates = new ArrayList<>();
        for (Path dir : searchFolders()) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> name.matcher(f.getFileName().toString()).matches()).forEach(candidates::add);
            } catch (IOException | SecurityException e) {
                // an unreadable folder holds nothing we can load
            }
        }
        return candidates.stream().max(Comparator.comparing(CudaLibraries::version));
    }

    /** {@code libx.so.12.4.1} → 12.4.1 as a sortable string of fixed-width numbers. */
    private static String version(Path p) {
        String n = p.getFileName().toString();
        int so = n.indexOf(".so");
        StringBuilder key = new StringBuilder();
        for (String part : n.substring(so + 3).split("\\.")) {
            if (!part.isEmpty()) key.append(String.format("%08d", Long.parseLong(part)));
        }
        return key.toString();
    }

    static List<Path> searchFolders() {
        Set<Path> dirs = new LinkedHashSet<>();
        for (String var : List.of("PCW_CUDA_LIBRARY_PATH", "LD_LIBRARY_PATH")) {
            String v = System.getenv(var);
            if (v != null) for (String d : v.split(":")) if (!d.isBlank()) dirs.add(Path.of(d));
        }
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String v = System.getenv(var);
            if (v != null) {
                dirs.add(Path.of(v, "lib64"));
                dirs.add(Path.of(v, "lib"));
                dirs.add(Path.of(v, "targets", "x86_64-linux", "lib"));
            }
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        dirs.add(Path.of("/usr/local/nvidia/lib64"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        dirs.add(Path.of("/usr/lib64"));
        dirs.addAll(wheelFolders());
        return dirs.stream().filter(Files::isDirectory).toList();
    }

    /**
     * {@code nvidia/*}{@code /lib} (CUDA 12 wheels) and {@code nvidia/cu*}{@code /lib} (CUDA 13) under the
     * site-packages of every Python environment whose {@code bin} is on the PATH, and of VIRTUAL_ENV.
     */
    private static List<Path> wheelFolders() {
        Set<Path> envs = new LinkedHashSet<>();
        String virtualEnv = System.getenv("VIRTUAL_ENV");
        if (virtualEnv != null) envs.add(Path.of(virtualEnv));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(":")) {
                Path bin = Path.of(d);
                if (bin.getFileName() != null && bin.getFileName().toString().equals("bin") && bin.getParent() != null) envs.add(bin.getParent());
            }
        }
        envs.add(Path.of("/usr/local"));
        envs.add(Path.of("/usr"));
        List<Path> out = new ArrayList<>();
        for (Path env : envs) {
            for (Path lib : List.of(env.resolve("lib"), env.resolve("lib64"))) {
                try (Stream<Path> pythons = Files.list(lib)) {
                    for (Path py : pythons.filter(p -> p.getFileName().toString().startsWith("python3")).toList()) {
                        for (String site : List.of("site-packages", "dist-packages")) {
                            Path nvidia = py.resolve(site).resolve("nvidia");
                            if (!Files.isDirectory(nvidia)) continue;
                            try (Stream<Path> pkgs = Files.list(nvidia)) {
                                pkgs.map(p -> p.resolve("lib")).filter(Files::isDirectory).forEach(out::add);
                            }
                        }
                    }
                } catch (IOException | SecurityException e) {
                    // no Python here
                }
            }
        }
        return out;
    }
}
