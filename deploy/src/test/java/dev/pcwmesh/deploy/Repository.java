package dev.pcwmesh.deploy;

import org.junit.jupiter.api.Assumptions;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The repository these checks read: the parent pom, the services, deploy/. */
final class Repository {

    private Repository() {}

    /** The repository's root (surefire sets pcw.repository to deploy/..). */
    static Path root() {
        String configured = System.getProperty("pcw.repository");
        Path root = (configured != null ? Path.of(configured) : Path.of("..")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(root.resolve("pom.xml")) || !Files.isDirectory(root.resolve("deploy"))) {
            throw new IllegalStateException("not the repository root: " + root);
        }
        return root;
    }

    static Path path(String relative) { return root().resolve(relative); }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(String relative) { return read(path(relative)); }

    /** The parent pom's modules (in order), properties and version. */
    record ParentPom(List<String> modules, Map<String, String> properties, String version) {
        /** The project's version without -SNAPSHOT: the images' and the chart's appVersion. */
        String releaseVersion() { return version.replace("-SNAPSHOT", ""); }
    }

    static ParentPom parentPom() {
        try {
            var factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(false);
            Element project = factory.newDocumentBuilder().parse(path("pom.xml").toFile()).getDocumentElement();
            List<String> modules = new ArrayList<>();
            Map<String, String> properties = new LinkedHashMap<>();
            String version = null;
            for (Node n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (!(n instanceof Element e)) continue;
                switch (e.getTagName()) {
                    case "version" -> version = e.getTextContent().trim();
                    case "modules" -> {
                        for (Node m = e.getFirstChild(); m != null; m = m.getNextSibling()) {
                            if (m instanceof Element me && me.getTagName().equals("module")) modules.add(me.getTextContent().trim());
                        }
                    }
                    case "properties" -> {
                        for (Node p = e.getFirstChild(); p != null; p = p.getNextSibling()) {
                            if (p instanceof Element pe) properties.put(pe.getTagName(), pe.getTextContent().trim());
                        }
                    }
                    default -> { }
                }
            }
            return new ParentPom(List.copyOf(modules), properties, version);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the parent pom", e);
        }
    }

    /**
     * Skips a check that needs the services' built applications when they are not there (a build of
     * this module alone), and fails it under CI, where the reactor builds the services first.
     */
    static void assumeBuilt(Path path, String what) {
        if (Files.exists(path)) return;
        String message = what + " is missing (" + path + "): build the services first, e.g. "
                + "./mvnw -DskipTests -pl chunker-service,encoder-service,generator-service -am package";
        if (System.getenv("CI") != null) throw new AssertionError(message);
        Assumptions.abort(message);
    }
}
