package dev.pcwmesh.cli;

import picocli.CommandLine.Command;

/** The benchmark harness: figures measured on this machine, printed as Markdown tables for the README. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchStrategiesCommand.class, BenchMeshCommand.class},
        description = "Measure speed; see the subcommands.")
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
