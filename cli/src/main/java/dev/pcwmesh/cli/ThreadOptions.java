package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.kernel.Parallel;
import picocli.CommandLine.Option;

/** The worker-thread option every command that computes shares. */
public final class ThreadOptions {
    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "worker threads (default: all cores)")
    Integer threads;

    /** Sets the kernel pool's size when the option was given. */
    public void apply() {
        if (threads != null) Parallel.setThreads(threads);
    }
}
