package dev.pcwmesh.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.MethodTypeEntry;
import java.lang.classfile.constantpool.NameAndTypeEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.module.ResolvedModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * Which JDK modules the classes of built applications refer to: every class in every jar under the
 * given directories is read with the JDK's class-file API, and each class it names (in its constant
 * pool, field and method descriptors) is looked up in the packages of this JDK's system modules.
 * A module missing from a jlink image is a NoClassDefFoundError waiting to happen; this finds them
 * all, including references on paths the application may never take (so the list is a safe superset).
 */
final class JdkModulesUsed {

    private JdkModulesUsed() {}

    private static final Pattern DESCRIPTOR_CLASS = Pattern.compile("L([^;<>]+)[;<]");

    /** Module name to the jars whose classes refer to it. */
    static Map<String, Set<String>> scan(Collection<Path> directories) {
        Map<String, String> moduleOfPackage = new HashMap<>();
        for (ModuleReference r : ModuleFinder.ofSystem().findAll()) {
            for (String p : r.descriptor().packages()) moduleOfPackage.put(p, r.descriptor().name());
        }
        Map<String, Set<String>> users = new TreeMap<>();
        for (Path jar : jars(directories)) {
            Set<String> names = new HashSet<>();
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (var entry : Collections.list(zip.entries())) {
                    if (!entry.getName().endsWith(".class") || entry.getName().endsWith("module-info.class")) continue;
                    ClassModel model;
                    try {
                        model = ClassFile.of().parse(zip.getInputStream(entry).readAllBytes());
                    } catch (IllegalArgumentException notAClass) {
                        continue;
                    }
                    referencedClasses(model, names);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + jar, e);
            }
            for (String name : names) {
                int slash = name.lastIndexOf('/');
                if (slash < 0) continue;
                String module = moduleOfPackage.get(name.substring(0, slash).replace('/', '.'));
                if (module != null) users.computeIfAbsent(module, k -> new TreeSet<>()).add(jar.getFileName().toString());
            }
        }
        return users;
    }

    private static void referencedClasses(ClassModel model, Set<String> out) {
        for (PoolEntry entry : model.constantPool()) {
            switch (entry) {
                case ClassEntry c -> {
                    String n = c.asInternalName();
                    if (n.startsWith("[")) descriptor(n, out); else out.add(n);
                }
                case NameAndTypeEntry nt -> descriptor(nt.type().stringValue(), out);
                case MethodTypeEntry mt -> descriptor(mt.descriptor().stringValue(), out);
                default -> { }
            }
        }
        model.fields().forEach(f -> descriptor(f.fieldType().stringValue(), out));
        model.methods().forEach(m -> descriptor(m.methodType().stringValue(), out));
    }

    private static void descriptor(String descriptor, Set<String> out) {
        Matcher m = DESCRIPTOR_CLASS.matcher(descriptor);
        while (m.find()) out.add(m.group(1));
    }

    private static List<Path> jars(Collection<Path> directories) {
        return directories.stream().flatMap(d -> {
            try (Stream<Path> s = Files.walk(d)) {
                return s.filter(p -> p.toString().endsWith(".jar")).toList().stream();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).sorted().toList();
    }

    /** What `jlink --add-modules roots` puts in an image: the roots and every module they require, transitively. */
    static Set<String> jlinkImage(Collection<String> roots) {
        Configuration c = Configuration.empty().resolve(ModuleFinder.ofSystem(), ModuleFinder.of(), roots);
        return c.modules().stream().map(ResolvedModule::name).collect(Collectors.toCollection(TreeSet::new));
    }
}
