package dev.pcwmesh.cli;

import org.junit.jupiter.api.Assumptions;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs {@code pcw} in-process through picocli with captured output. */
record CliRun(int exitCode, String out, String err) {

    static CliRun run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cl = PcwCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /**
     * A file under {@code ../shared/models} beside the repository root: skipped when missing,
     * failed instead when {@code CI} is set (as the runtime's TestModels does).
     */
    static Path sharedModel(String relative) {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("mvnw"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("cannot find the repository root");
        Path file = p.resolveSibling("shared").resolve("models").resolve(relative);
        if (!Files.exists(file)) {
            String msg = "reference file missing: " + file;
            if (System.getenv("CI") != null) throw new AssertionError(msg + "; CI is set, so this fails instead of skipping");
            Assumptions.abort(msg);
        }
        return file;
    }
}
