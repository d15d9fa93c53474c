package dev.pcwmesh.runtime;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the reference files in {@code ../shared/models/} beside the repository root. Where a
 * file is absent (a user's fresh clone) the test is skipped with a message naming it; when the
 * environment variable {@code CI} is set it fails instead, so a check never passes silently.
 */
public final class TestModels {
    private TestModels() {}

    /** The repository root: the nearest folder upwards holding {@code mvnw}. */
    public static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("mvnw"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("cannot find the repository root (no mvnw above " + Path.of("").toAbsolutePath() + ")");
        return p;
    }

    /**
     * A file the repository itself ships (for example {@code models/pcw-demo.gguf}), relative to
     * the repository root. It is part of the checkout, so a missing file fails the test; it never skips.
     */
    public static Path inRepository(String relative) {
        Path p = repositoryRoot().resolve(relative);
        if (!Files.exists(p)) throw new AssertionError("file missing from the repository: " + p);
        return p;
    }

    /** {@code ../shared/models} relative to the repository root (it may not exist). */
    public static Path sharedModels() {
        return repositoryRoot().resolveSibling("shared").resolve("models");
    }

    /** A file under {@code ../shared/models}; skips the test (or fails under CI) when it is missing. */
    public static Path shared(String relative) {
        Path p = sharedModels().resolve(relative);
        if (!Files.exists(p)) {
            String msg = "reference file missing: " + p + " (see ../shared/models/README.md)";
            if (System.getenv("CI") != null) throw new AssertionError(msg + "; CI is set, so this fails instead of skipping");
            Assumptions.abort(msg);
        }
        return p;
    }
}
