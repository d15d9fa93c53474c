package dev.pcwmesh.encoder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The segment store on its own, over a real directory. */
class SegmentStoreTest {
    @TempDir
    Path dir;

    static String id(int i) {
        return "%064x".formatted(i);
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void spillsToDiskAndServesFromDiskAfterMemoryEviction() throws Exception {
        SegmentStore store = new SegmentStore(dir, 2500, 100_000);
        for (int i = 0; i < 5; i++) store.put(id(i), bytes(1000, i));
        // Memory holds the two most recent; every segment has its file.
        assertEquals(2, store.memorySegments());
        assertEquals(2000, store.memoryBytes());
        assertFalse(store.inMemory(id(0)));
        assertTrue(store.inMemory(id(4)) && store.inMemory(id(3)));
        assertEquals(5, store.diskSegments());
        assertEquals(5000, store.diskBytes());
        assertArrayEquals(bytes(1000, 0), Files.readAllBytes(dir.resolve(id(0) + ".kv")), "files are named by segment id");
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".tmp")), "no temporary file is left");
        }

        assertArrayEquals(bytes(1000, 0), store.get(id(0)), "served from disk after memory eviction");
        assertTrue(store.inMemory(id(0)), "and recent in memory again");
        assertFalse(store.inMemory(id(3)), "pushing out the least recently used");
        assertEquals(1, store.hits());
        assertNull(store.get(id(99)));
        assertEquals(1, store.misses());

        // A new store over the same directory (a restarted encoder) serves every segment.
        SegmentStore restarted = new SegmentStore(dir, 2500, 100_000);
        assertEquals(5, restarted.diskSegments());
        assertEquals(0, restarted.memorySegments());
        for (int i = 0; i < 5; i++) {
            assertTrue(restarted.contains(id(i)));
            assertArrayEquals(bytes(1000, i), restarted.get(id(i)), "segment " + i);
        }
    }

    @Test
    void diskEvictsLeastRecentlyUsedAndMemoryRewritesWhatTheDiskDropped() throws Exception {
        SegmentStore store = new SegmentStore(dir, 2000, 3000);
        for (int i = 0; i < 3; i++) store.put(id(i), bytes(1000, i));
        store.get(id(0));                                   // 0 becomes recent on disk: 1 is the least recently used file
        store.put(id(3), bytes(1000, 3));
        assertEquals(3, store.diskSegments());
        assertFalse(store.onDisk(id(1)));
        assertFalse(Files.exists(dir.resolve(id(1) + ".kv")), "its file is deleted");
        assertFalse(store.contains(id(1)), "1 was in neither tier");
        assertTrue(store.onDisk(id(0)) && store.onDisk(id(2)) && store.onDisk(id(3)));

        // Disk smaller than memory: a segment dropped from disk but still in memory is written again when memory pushes it out.
        SegmentStore small = new SegmentStore(dir.resolve("b"), 3000, 2000);
        for (int i = 0; i < 3; i++) small.put(id(i), bytes(1000, i));
        assertFalse(small.onDisk(id(0)));
        assertTrue(small.inMemory(id(0)));
        small.put(id(3), bytes(1000, 3));                   // memory pushes 0 out: it is written back
        assertFalse(small.inMemory(id(0)));
        assertArrayEquals(bytes(1000, 0), small.get(id(0)));

        // A restart trims a directory beyond its bound, least recently modified first.
        SegmentStore tighter = new SegmentStore(dir, 1000, 2000);
        assertEquals(2, tighter.diskSegments());
        assertEquals(2000, tighter.diskBytes());
    }

    @Test
    void indexesOnlySegmentFilesAndDropsTemporaryOnes() throws Exception {
        Files.createDirectories(dir);
        Files.write(dir.resolve(id(7) + ".kv"), bytes(10, 7));
        Files.write(dir.resolve(id(8) + ".kv.1234.tmp"), bytes(10, 8));    // a write cut short
        Files.write(dir.resolve("notes.txt"), bytes(10, 9));
        Files.write(dir.resolve(id(9) + ".kv"), new byte[0]);              // empty: not a segment
        SegmentStore store = new SegmentStore(dir, 100, 100);
        assertEquals(1, store.diskSegments());
        assertArrayEquals(bytes(10, 7), store.get(id(7)));
        assertFalse(Files.exists(dir.resolve(id(8) + ".kv.1234.tmp")));
        assertTrue(Files.exists(dir.resolve("notes.txt")), "other files are left alone");
    }

    @Test
    void refusesWhatCannotBeStored() {
        SegmentStore store = new SegmentStore(dir, 100, 200);
        assertThrows(IllegalArgumentException.class, () -> store.put(id(1), new byte[201]), "larger than both tiers");
        assertThrows(IllegalArgumentException.class, () -> store.put("../../etc/passwd", new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> store.get("ABC"));
        assertFalse(SegmentStore.validId(id(1).toUpperCase().replace('0', 'A')));
        store.put(id(2), new byte[150]);                   // larger than memory: disk only
        assertFalse(store.inMemory(id(2)));
        assertEquals(150, store.get(id(2)).length);
        SegmentStore memoryOnly = new SegmentStore(dir.resolve("none"), 100, 0);
        memoryOnly.put(id(3), new byte[50]);
        assertEquals(50, memoryOnly.get(id(3)).length);
        assertFalse(Files.exists(dir.resolve("none")), "disk bound 0: no directory");
    }
}
