package dev.pcwmesh.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PcwCommandTest {

    @Test
    void topLevelHelpListsSubcommands() {
        CliRun r = CliRun.run("--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("Usage: pcw"), r.out());
        assertTrue(r.out().contains("info") && r.out().contains("make-random-model"), r.out());
        CliRun bare = CliRun.run();
        assertEquals(0, bare.exitCode());
        assertTrue(bare.out().contains("make-random-model"), bare.out());
    }

    @Test
    void version() {
        CliRun r = CliRun.run("--version");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().startsWith("pcw "), r.out());
    }

    @Test
    void unknownSubcommandIsAUsageError() {
        CliRun r = CliRun.run("frobnicate");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("frobnicate"), r.err());
    }
}
