package dev.pcwmesh.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code pcw mesh up|status|down}: the whole mesh on this machine, as background processes. */
@Command(name = "mesh", mixinStandardHelpOptions = true,
        description = "Run the mesh on this machine: a Kafka broker and the chunker, encoder and generator services.",
        subcommands = {MeshCommand.Up.class, MeshCommand.Status.class, MeshCommand.Down.class})
public final class MeshCommand {

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start the broker and the three services (what is already running is kept) and wait until all are ready.")
    static final class Up implements Callable<Integer> {
        @Mixin MeshOptions options;

        @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model of every service (default: models/pcw-demo.gguf)")
        Path model;

        @Option(names = "--window-tokens", paramLabel = "N",
                description = "the chunker's window size W (default: 70%% of the model's trained context, leaving room for the question and answer)")
        Integer windowTokens;

        @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS", description = "most seconds to wait for readiness (default: ${DEFAULT-VALUE})")
        int timeout;

        @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            options.mesh(model, windowTokens, out).up(Duration.ofSeconds(timeout));
            out.println("mesh up: state in " + options.stateDir());
            out.flush();
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show each process and whether it is ready; exit 0 only when all are.")
    static final class Status implements Callable<Integer> {
        @Mixin MeshOptions options;

        @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            return options.mesh(null, null, spec.commandLine().getOut()).status() ? 0 : 1;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Stop the services and the broker; the broker's data stays for the next up.")
    static final class Down implements Callable<Integer> {
        @Mixin MeshOptions options;

        @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            options.mesh(null, null, spec.commandLine().getOut()).down();
            return 0;
        }
    }
}
