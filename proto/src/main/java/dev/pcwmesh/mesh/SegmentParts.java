package dev.pcwmesh.mesh;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * How a serialized KV segment travels in {@code pcwmesh.v1.SegmentPart}s, both ends: the encoder
 * {@link #split splits} it into parts of at most a given size, each with the CRC-32C of its bytes; the
 * generator feeds the parts to an {@link Assembler}, which checks that they are contiguous, that each
 * checksum matches and that the total is reached, and which can resume from the bytes received so far
 * (ask again with {@code offset} = {@link Assembler#bytesReceived()}).
 *
 * <p>Plain Java, so that this jar of .proto files stays free of a protobuf dependency: each service
 * generates its own stubs and copies fields between {@link Part} and its {@code SegmentPart}.
 */
public final class SegmentParts {
    /** The largest part the protocol allows (encoder.proto: "at most 1 MiB"). */
    public static final int MAX_PART_BYTES = 1 << 20;

    private SegmentParts() {}

    /**
     * One part: {@code data} sits at {@code offset} of a serialized segment of {@code totalBytes}
     * bytes; {@code crc32c} is the CRC-32C of {@code data} (an unsigned 32-bit value in an int).
     */
    public record Part(long offset, long totalBytes, byte[] data, int crc32c) {}

    /** The parts of {@code segment} from {@code offset} to its end, each at most {@code maxPartBytes}. */
    public static List<Part> split(byte[] segment, long offset, int maxPartBytes) {
        if (maxPartBytes < 1 || maxPartBytes > MAX_PART_BYTES) {
            throw new IllegalArgumentException("part size must be 1 .. " + MAX_PART_BYTES + " bytes, got " + maxPartBytes);
        }
        checkOffset(offset, segment.length);
        List<Part> parts = new ArrayList<>((int) ((segment.length - offset + maxPartBytes - 1) / maxPartBytes));
        for (int from = (int) offset; from < segment.length; from += maxPartBytes) {
            int to = Math.min(segment.length, from + maxPartBytes);
            parts.add(new Part(from, segment.length, Arrays.copyOfRange(segment, from, to), crc32c(segment, from, to - from)));
        }
        return parts;
    }

    /**
     * Throws {@link IllegalArgumentException} for a negative offset and {@link IndexOutOfBoundsException}
     * for one at or beyond the end (nothing left to send), so a server can map each to its status.
     */
    public static void checkOffset(long offset, long totalBytes) {
        if (offset < 0) throw new IllegalArgumentException("offset must be non-negative, got " + offset);
        if (offset >= totalBytes) {
            throw new IndexOutOfBoundsException("offset " + offset + " is at or beyond the end of the segment (" + totalBytes + " bytes)");
        }
    }

    /** CRC-32C of {@code length} bytes of {@code data} from {@code from}, as the int a uint32 field carries. */
    public static int crc32c(byte[] data, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, from, length);
        return (int) crc.getValue();
    }

    /** A transfer that cannot be trusted: a missing, repeated, corrupted or surplus part, or a stream that ended early. */
    public static final class TransferException extends RuntimeException {
        public TransferException(String message) { super(message); }
    }

    /**
     * Reassembles one segment from its parts, in order. Not thread-safe. After a failure (the stream
     * broke, or a part was refused) the bytes accepted so far stay valid: ask the encoder again from
     * {@link #bytesReceived()} and keep feeding this assembler.
     */
    public static final class Assembler {
        private final String segmentId;
        private byte[] buffer;
        private int received;
        private long total = -1;

        /** An empty assembler for {@code segmentId} (used in messages only). */
        public Assembler(String segmentId) {
            this.segmentId = segmentId;
            this.buffer = new byte[0];
        }

        /** An assembler that already holds the first {@code receivedSoFar.length} bytes (from an earlier, interrupted transfer). */
        public static Assembler resume(String segmentId, byte[] receivedSoFar) {
            Assembler a = new Assembler(segmentId);
            a.buffer = receivedSoFar.clone();
            a.received = receivedSoFar.length;
            return a;
        }

        /** Checks one part and appends its bytes; throws {@link TransferException} (accepting nothing) when it does not fit. */
        public void accept(Part part) {
            accept(part.offset(), part.totalBytes(), part.data(), part.crc32c());
        }

        public void accept(long offset, long totalBytes, byte[] data, int crc32c) {
            if (totalBytes <= 0 || totalBytes > Integer.MAX_VALUE - 8) {
                throw fail("impossible total size " + totalBytes);
            }
            if (total >= 0 && totalBytes != total) throw fail("total size changed from " + total + " to " + totalBytes + " bytes");
            if (offset != received) {
                throw fail(offset > received
                        ? "part at offset " + offset + " but " + received + " bytes received: bytes " + received + ".." + (offset - 1) + " are missing"
                        : "part at offset " + offset + " repeats bytes already received (" + received + ")");
            }
            if (data.length == 0) throw fail("empty part at offset " + offset);
            if (offset + data.length > totalBytes) {
                throw fail("part at offset " + offset + " of " + data.length + " bytes runs past the total of " + totalBytes);
            }
            int actual = crc32c(data, 0, data.length);
            if (actual != crc32c) {
                throw fail(String.format("part at offset %d (%d bytes) is corrupted: CRC-32C %08x, expected %08x",
                        offset, data.length, actual, crc32c));
            }
            if (buffer.length < totalBytes) buffer = Arrays.copyOf(buffer, (int) totalBytes);
            System.arraycopy(data, 0, buffer, received, data.length);
            received += data.length;
            total = totalBytes;
        }

        /** Bytes received and checked so far: the offset to resume from. */
        public long bytesReceived() { return received; }

        /** The total size the parts announced, or -1 before the first part. */
        public long totalBytes() { return total; }

        public boolean complete() { return total >= 0 && received == total; }

        /** The whole serialized segment; throws {@link TransferException} when parts are still missing. */
        public byte[] result() {
            if (total < 0) throw fail("no part received");
            if (!complete()) throw fail("the transfer ended after " + received + " of " + total + " bytes");
            return buffer.length == received ? buffer : Arrays.copyOf(buffer, received);
        }

        private TransferException fail(String what) {
            return new TransferException("segment " + segmentId + ": " + what);
        }
    }
}
