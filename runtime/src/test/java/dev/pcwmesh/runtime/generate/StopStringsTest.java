package dev.pcwmesh.runtime.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringsTest {
    @Test
    void textBeforeAStopStringIsReleasedAndTheRestCut() {
        StopStrings s = new StopStrings(List.of("\nUser:"));
        StringBuilder out = new StringBuilder();
        for (String piece : new String[]{"Hello", " there", "\n", "Us", "er:", " more"}) {
            out.append(s.push(piece));
            if (s.stopped()) break;
        }
        assertTrue(s.stopped());
        assertEquals("Hello there", out.toString());
        assertEquals("Hello there", s.text());
    }

    @Test
    void aPossibleStartIsHeldBackThenReleasedWhenItDoesNotMatch() {
        StopStrings s = new StopStrings(List.of("END"));
        assertEquals("abc", s.push("abcE"));
        assertEquals("", s.push("N"));
        assertEquals("ENx", s.push("x"));
        assertFalse(s.stopped());
        assertEquals("", s.finish());
    }

    @Test
    void withoutStopStringsEverythingIsReleasedAtOnce() {
        StopStrings s = new StopStrings(List.of());
        assertEquals("a", s.push("a"));
        assertEquals("bc", s.push("bc"));
        assertEquals("abc", s.text());
    }

    @Test
    void theEarliestOfSeveralStopStringsWins() {
        StopStrings s = new StopStrings(List.of("yz", "b"));
        assertEquals("a", s.push("abcxyz"));
        assertTrue(s.stopped());
    }
}
