package dev.pcwmesh.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

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
}
