package dev.pcwmesh.corpus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Related short texts joined in the order that makes sense; near duplicates; natural order. */
class AggregatorTest {

    static Document doc(String id, String group, String order, String text) {
        return new Document(id, text, id, "d", group, order);
    }

    @Test
    void groupsAreJoinedBySectionNumberAndDate() {
        List<Unit> out = new ArrayList<>();
        Aggregator<String> a = new Aggregator<>(1000, new int[]{-9}, 1_000_000, 0, 1, (u, o) -> out.add(u));
        a.add(doc("s10", "book", "section 10", "x"), "d", new int[]{10}, "s10");
        a.add(doc("s2", "book", "section 2", "x"), "d", new int[]{2}, "s2");
        a.add(doc("d2", "thread", "2024-03-05", "x"), "d", new int[]{5}, "d2");
        a.add(doc("d1", "thread", "2023-12-31", "x"), "d", new int[]{4}, "d1");
        a.add(doc("s1", "book", "section 1", "x"), "d", new int[]{1}, "s1");
        a.add(doc("alone", "other", null, "x"), "d", new int[]{7}, "alone");
        a.flush();
        assertEquals(3, out.size());
        assertEquals(List.of("s1", "s2", "s10"), out.get(0).documents());
        assertEquals(Unit.Kind.AGGREGATE, out.get(0).kind());
        assertEquals(List.of(1, -9, 2, -9, 10), java.util.Arrays.stream(out.get(0).tokens()).boxed().toList(), "parts joined by the separator");
        assertEquals(List.of("d1", "d2"), out.get(1).documents());
        assertEquals(Unit.Kind.SHORT, out.get(2).kind(), "a group of one is a short unit");
    }

    @Test
    void aFullGroupComesOutAtTheTargetLength() {
        List<Unit> out = new ArrayList<>();
        Aggregator<String> a = new Aggregator<>(100, new int[0], 1_000_000, 0, 1, (u, o) -> out.add(u));
        for (int i = 0; i < 10; i++) a.add(doc("p" + i, "g", Integer.toString(i), "x"), "d", new int[30], "p" + i);
        assertEquals(2, out.size(), "every 4 parts of 30 tokens reach 100");
        assertEquals(2, a.waiting());
    }

    @Test
    void topicalNeighboursAreJoined() {
        SyntheticCorpus c = new SyntheticCorpus(4);
        List<String> t1 = c.topic(25), t2 = c.topic(25);
        List<Unit> out = new ArrayList<>();
        Aggregator<String> a = new Aggregator<>(100_000, new int[0], 1_000_000, 0.2, 1, (u, o) -> out.add(u));
        for (int i = 0; i < 6; i++) {
            List<String> t = i % 2 == 0 ? t1 : t2;
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < 60; k++) b.append(c.pick(t)).append(' ');
            a.add(new Document("t" + i, b.toString(), "t" + i, "d", null, null), "d", new int[10], "t" + i);
        }
        a.flush();
        assertEquals(2, out.size(), "two topics, two aggregates: " + out.stream().map(Unit::documents).toList());
        assertEquals(List.of("t0", "t2", "t4"), out.get(0).documents());
    }

    @Test
    void naturalOrder() {
        List<String> keys = new ArrayList<>(List.of("ch10", "ch2", "ch1", "1.10", "1.2", "2023-01-09", "2022-12-31"));
        keys.sort(NaturalOrder.INSTANCE);
        assertEquals(List.of("1.2", "1.10", "2022-12-31", "2023-01-09", "ch1", "ch2", "ch10"), keys);
    }

    @Test
    void nearDuplicatesAreFoundAndOthersNot() {
        SyntheticCorpus c = new SyntheticCorpus(5);
        NearDuplicates nd = new NearDuplicates(new MinHash(128, 5, 1), 16, 0.8, 1000);
        String original = c.prose(c.topic(40), 400);
        assertEquals(null, nd.offer("a", original));
        String[] words = original.split(" ");
        words[10] = "changed";
        words[200] = "edited";
        NearDuplicates.Match m = nd.offer("b", String.join(" ", words));
        assertTrue(m != null && m.id().equals("a") && m.similarity() >= 0.8, "two words changed: " + m);
        int falsePositives = 0;
        for (int i = 0; i < 200; i++) if (nd.offer("o" + i, c.prose(c.topic(40), 200)) != null) falsePositives++;
        assertEquals(0, falsePositives);
        NearDuplicates small = new NearDuplicates(new MinHash(128, 5, 1), 16, 0.8, 2);
        small.offer("a", original);
        small.offer("x", c.prose(null, 200));
        small.offer("y", c.prose(null, 200));
        assertEquals(null, small.offer("again", original), "beyond its capacity the index forgets the oldest");
    }
}
