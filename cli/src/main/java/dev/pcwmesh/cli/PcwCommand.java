package dev.pcwmesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/**
 * The {@code pcw} command. Subcommands are separate classes listed in {@code subcommands} below;
 * add a new one there.
 *
 * <p>An error inside a subcommand prints one line, {@code pcw: <message>}, to standard error and
 * exits with 1; {@code --verbose} adds the stack trace. Bad options print picocli's usage message
 * and exit with 2.
 */
@Command(name = "pcw",
        mixinStandardHelpOptions = true,
        versionProvider = PcwCommand.Version.class,
        description = "PCW Mesh: long-document question answering with parallel context windows; model tools.",
        subcommands = {
                DemoCommand.class,
                InfoCommand.class,
                TokenizeCommand.class,
                GenerateCommand.class,
                PerplexityCommand.class,
                QaCommand.class,
                MeshCommand.class,
                IngestCommand.class,
                AskCommand.class,
                EvalCommand.class,
                CorpusCommand.class,
                BenchCommand.class,
                MakeRandomModelCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class PcwCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        // `pcw` alone: show what there is.
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A configured command line (the one {@link #main} runs; tests run this one too). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new PcwCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(PcwCommand::handle);
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    private static int handle(Exception e, CommandLine cl, ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (verbose(parsed)) {
            e.printStackTrace(err);
        } else {
            String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getName() : e.getMessage();
            err.println("pcw: " + message.lines().findFirst().orElse(message)
                    + (e.getMessage() == null ? " (run with --verbose for the stack trace)" : ""));
        }
        err.flush();
        return 1;
    }

    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    /** The version from the jar manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = PcwCommand.class.getPackage().getImplementationVersion();
            return new String[]{"pcw " + (v == null ? "0.1.0-SNAPSHOT (development)" : v)
                    + ", Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
