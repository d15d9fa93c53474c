package dev.pcwmesh.mesh;

import dev.pcwmesh.mesh.SegmentParts.Assembler;
import dev.pcwmesh.mesh.SegmentParts.Part;
import dev.pcwmesh.mesh.SegmentParts.TransferException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentPartsTest {
    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void splitsIntoBoundedPartsThatReassembleByteIdentically() {
        byte[] segment = bytes(10_000);
        List<Part> parts = SegmentParts.split(segment, 0, 4096);
        assertEquals(3, parts.size());
        assertEquals(List.of(0L, 4096L, 8192L), parts.stream().map(Part::offset).toList());
        assertEquals(10_000 - 8192, parts.getLast().data().length);
        Assembler a = new Assembler("s");
        for (Part p : parts) {
            assertEquals(10_000, p.totalBytes());
            assertFalse(a.complete());
            a.accept(p);
        }
        assertTrue(a.complete());
        assertArrayEquals(segment, a.result());
        // Exactly one part when it fits; the known CRC-32C check value ("123456789" -> e3069283).
        assertEquals(1, SegmentParts.split(segment, 0, SegmentParts.MAX_PART_BYTES).size());
        assertEquals(0xe3069283, SegmentParts.crc32c("123456789".getBytes(), 0, 9));
    }

    @Test
    void resumesFromTheBytesReceivedSoFar() {
        byte[] segment = bytes(5000);
        Assembler first = new Assembler("s");
        List<Part> parts = SegmentParts.split(segment, 0, 1000);
        first.accept(parts.get(0));
        first.accept(parts.get(1));
        TransferException early = assertThrows(TransferException.class, first::result);
        assertTrue(early.getMessage().contains("2000 of 5000"), early.getMessage());
        // The stream broke after two parts: ask again from bytesReceived(), in another part size.
        byte[] soFar = Arrays.copyOf(segment, (int) first.bytesReceived());
        Assembler resumed = Assembler.resume("s", soFar);
        for (Part p : SegmentParts.split(segment, resumed.bytesReceived(), 700)) resumed.accept(p);
        assertArrayEquals(segment, resumed.result());
        // The same assembler can also carry on.
        for (Part p : SegmentParts.split(segment, first.bytesReceived(), 1000)) first.accept(p);
        assertArrayEquals(segment, first.result());
    }

    @Test
    void detectsCorruptedMissingRepeatedAndInconsistentParts() {
        byte[] segment = bytes(3000);
        List<Part> parts = SegmentParts.split(segment, 0, 1000);

        Part p1 = parts.get(1);
        byte[] flipped = p1.data().clone();
        flipped[17] ^= 0x04;
        Assembler a = new Assembler("s1");
        a.accept(parts.get(0));
        TransferException corrupted = assertThrows(TransferException.class, () -> a.accept(new Part(p1.offset(), p1.totalBytes(), flipped, p1.crc32c())));
        assertTrue(corrupted.getMessage().contains("corrupted"), corrupted.getMessage());
        assertEquals(1000, a.bytesReceived(), "a refused part is not accepted");
        a.accept(p1);                                          // the good copy still fits

        Assembler b = new Assembler("s2");
        b.accept(parts.get(0));
        TransferException missing = assertThrows(TransferException.class, () -> b.accept(parts.get(2)));
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
        TransferException repeated = assertThrows(TransferException.class, () -> b.accept(parts.get(0)));
        assertTrue(repeated.getMessage().contains("repeats"), repeated.getMessage());
        assertThrows(TransferException.class, () -> b.accept(new Part(1000, 4000, p1.data(), p1.crc32c())), "total changed");
        assertThrows(TransferException.class, () -> new Assembler("s3").accept(new Part(0, 10, new byte[20], SegmentParts.crc32c(new byte[20], 0, 20))), "runs past the total");
        assertThrows(TransferException.class, () -> new Assembler("s4").result(), "nothing received");
    }

    @Test
    void refusesBadOffsetsAndPartSizes() {
        byte[] segment = bytes(100);
        assertThrows(IllegalArgumentException.class, () -> SegmentParts.split(segment, -1, 10));
        assertThrows(IndexOutOfBoundsException.class, () -> SegmentParts.split(segment, 100, 10));
        assertThrows(IndexOutOfBoundsException.class, () -> SegmentParts.split(segment, 101, 10));
        assertThrows(IllegalArgumentException.class, () -> SegmentParts.split(segment, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> SegmentParts.split(segment, 0, SegmentParts.MAX_PART_BYTES + 1));
        assertEquals(1, SegmentParts.split(segment, 99, 10).size());
    }
}
