package dev.pcwmesh.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalStrategyTest {

    @Test
    void namesResolveToAStrategyAndARescaling() {
        assertEquals(new EvalStrategy("parallel", "parallel", null), EvalStrategy.byName("parallel"));
        assertEquals(new EvalStrategy("yarn", "sequential", "yarn"), EvalStrategy.byName("yarn"));
        assertEquals(new EvalStrategy("rerope", "sequential", "rerope"), EvalStrategy.byName("rerope"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalStrategy.byName("magic")).getMessage().contains("unknown strategy 'magic'"));
        assertNull(EvalStrategy.byName("tokens").rope());
        for (String name : EvalStrategy.NAMES.split(", ")) assertEquals(name, EvalStrategy.byName(name).name(), "NAMES lists only known names");
        assertEquals(EvalStrategy.STRATEGIES.size() + EvalStrategy.STRETCHED.size() + EvalStrategy.UNBOUNDED.size(), EvalStrategy.NAMES.split(", ").length);
    }

    @Test
    void theStretchHoldsTheWholeSequence() {
        for (int length = 1; length < 5000; length += 7) {
            for (int trained : new int[]{96, 128, 256, 4096}) {
                float s = EvalStrategy.stretch(length, trained);
                assertTrue(s >= 1, "at least 1");
                assertTrue(Math.floor(trained * (double) s) >= length, length + " in " + trained + " × " + s);
            }
        }
    }
}
