package dev.pcwmesh.corpus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fixed-length sequences that lose no unit and no token, with segments that separate documents. */
class PackerTest {

    @Test
    void everyUnitComesOutWholeInOrder() {
        Random r = new Random(3);
        List<Packer.Sequence> out = new ArrayList<>();
        Packer packer = new Packer(128, 1, 2, 0, out::add);
        List<Unit> units = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int[] t = new int[1 + r.nextInt(i % 10 == 0 ? 600 : 90)];
            for (int k = 0; k < t.length; k++) t[k] = 3 + r.nextInt(500);
            Unit u = new Unit("u" + i, "d", Unit.Kind.HOLISTIC, List.of("u" + i), t);
            units.add(u);
            packer.add(u, Integer.MAX_VALUE);
        }
        packer.finish();
        Map<String, List<Integer>> seen = new HashMap<>();
        for (Packer.Sequence s : out) {
            assertEquals(128, s.tokens().length);
            int covered = 0;
            for (int p = 0; p < s.pieces().size(); p++) {
                Packer.Piece piece = s.pieces().get(p);
                assertEquals(covered, piece.start(), "pieces are contiguous");
                for (int k = piece.start(); k < piece.start() + piece.length(); k++) {
                    seen.computeIfAbsent(piece.unit(), x -> new ArrayList<>()).add(s.tokens()[k]);
                    assertEquals(p, s.segments()[k], "a token's segment is its piece");
                }
                covered += piece.length();
            }
            assertEquals(128 - s.padding(), covered);
            for (int k = covered; k < 128; k++) assertEquals(-1, s.segments()[k]);
        }
        assertTrue(out.subList(0, out.size() - 1).stream().allMatch(s -> s.padding() == 0), "only the last sequence is padded");
        for (Unit u : units) {
            int[] expected = packer.packed(u, Integer.MAX_VALUE);
            assertEquals(u.tokens().length + 2, expected.length);
            assertArrayEquals(expected, seen.get(u.id()).stream().mapToInt(Integer::intValue).toArray(), u.id() + " comes out whole: BOS, tokens, EOS");
        }
        assertEquals(units.size(), seen.size(), "no unit is lost");
    }

    @Test
    void aCutUnitEndsWithEos() {
        Packer packer = new Packer(16, 1, 2, 0, s -> {});
        Unit u = new Unit("u", "d", Unit.Kind.HOLISTIC, List.of("u"), new int[]{10, 11, 12, 13, 14});
        assertArrayEquals(new int[]{1, 10, 11, 2}, packer.packed(u, 4));
        assertArrayEquals(new int[]{1, 10, 11, 12, 13, 14, 2}, packer.packed(u, 99));
        assertEquals(0, Arrays.stream(new Packer(16, -1, -1, 0, s -> {}).packed(u, 99)).filter(t -> t < 10).count(), "no BOS or EOS when the model has none");
    }
}
