package dev.pcwmesh.encoder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Serialized KV segments (KvSegmentCodec bytes) by content id, bounded in bytes twice: a memory tier
 * and a disk directory, each evicting its least recently used segment first.
 *
 * <p>Every segment that fits is written to disk when it is stored (a file named by its id, written
 * to a temporary name and renamed, so a reader never sees half a file), and memory keeps the most
 * recently used ones on top. Memory is what makes serving fast; the disk is what makes a location
 * published on {@code pcw.segments} stay true: an encoder killed and restarted {@linkplain
 * #SegmentStore indexes its directory} and serves what it had published, instead of every generator
 * finding NOT_FOUND and a whole document being re-encoded. A segment pushed out of memory is read
 * back from disk (and becomes recent in memory again); one pushed out of memory that the disk had
 * already dropped is written again, so it leaves the store only when it is the least recently used
 * segment of both tiers. A segment larger than both bounds is refused.
 *
 * <p>Thread-safe: one lock around the index and the files. Disk I/O under it keeps the index and the
 * directory in step; a segment's write or read is short next to encoding it.
 */
public final class SegmentStore {
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    private static final String SUFFIX = ".kv";

    private final Path dir;
    private final long memoryLimit;
    private final long diskLimit;
    /** Access order: the first entry is the least recently used. */
    private final LinkedHashMap<String, byte[]> memory = new LinkedHashMap<>(64, 0.75f, true);
    private final LinkedHashMap<String, Long> disk = new LinkedHashMap<>(64, 0.75f, true);
    private long memoryBytes;
    private long diskBytes;
    private long hits;
    private long misses;

    /**
     * A store over {@code dir} (created when missing). Segment files already there are indexed, least
     * recently used first by their modification time (touched on every read), and trimmed to
     * {@code diskLimit}; temporary files of writes cut short are deleted.
     */
    public SegmentStore(Path dir, long memoryLimit, long diskLimit) {
        if (memoryLimit < 0 || diskLimit < 0) throw new IllegalArgumentException("store bounds must be non-negative: " + memoryLimit + ", " + diskLimit);
        this.dir = dir;
        this.memoryLimit = memoryLimit;
        this.diskLimit = diskLimit;
        if (diskLimit > 0) index();
    }

    /** Whether {@code id} can name a segment: 64 lower-case hex digits (SHA-256), so never a path. */
    public static boolean validId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** Whether the store holds {@code id}, in memory or on disk (touches nothing, counts nothing). */
    public synchronized boolean contains(String id) {
        return memory.containsKey(id) || disk.containsKey(id);
    }

    /** Bytes of the stored segment {@code id}, or -1 when the store does not hold it; marks it recently used (it was asked for again), counts no hit or miss. */
    public synchronized long size(String id) {
        byte[] b = memory.get(id);
        if (b != null) return b.length;
        Long n = disk.get(id);
        return n == null ? -1 : n;
    }

    /** The segment's bytes, or null (a miss); a segment read from disk becomes the most recent in memory. */
    public synchronized byte[] get(String id) {
        requireId(id);
        byte[] b = memory.get(id);
        if (b == null && disk.containsKey(id)) {
            Path file = file(id);
            try {
                b = Files.readAllBytes(file);
                disk.get(id);                                            // most recent on disk too
                Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
                if (b.length <= memoryLimit) {
                    memory.put(id, b);
                    memoryBytes += b.length;
                    evictMemory();
                }
            } catch (NoSuchFileException e) {                             // deleted behind our back
                diskBytes -= disk.remove(id);
                b = null;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read segment file " + file, e);
            }
        }
        if (b == null) misses++;
        else hits++;
        return b;
    }

    /** Stores a segment (replacing one of the same id): on disk when it fits there, and in memory when it fits there. */
    public synchronized void put(String id, byte[] bytes) {
        requireId(id);
        long n = bytes.length;
        if (n > memoryLimit && n > diskLimit) {
            throw new IllegalArgumentException("segment " + id + " has " + n + " bytes, more than the store holds (memory "
                    + memoryLimit + ", disk " + diskLimit + " bytes)");
        }
        if (n <= diskLimit) writeToDisk(id, bytes);
        byte[] old = memory.remove(id);
        if (old != null) memoryBytes -= old.length;
        if (n <= memoryLimit) {
            memory.put(id, bytes);
            memoryBytes += n;
            evictMemory();
        }
    }

    public synchronized long memoryBytes() { return memoryBytes; }

    public synchronized long diskBytes() { return diskBytes; }

    public synchronized int memorySegments() { return memory.size(); }

    public synchronized int diskSegments() { return disk.size(); }

    /** Whether {@code id} is in memory now (for tests and logs). */
    public synchronized boolean inMemory(String id) { return memory.containsKey(id); }

    /** Whether {@code id} has a file now. */
    public synchronized boolean onDisk(String id) { return disk.containsKey(id); }

    /** {@link #get} calls that found the segment. */
    public synchronized long hits() { return hits; }

    /** {@link #get} calls that did not. */
    public synchronized long misses() { return misses; }

    public Path directory() { return dir; }

    /** Least recently used segments leave memory; one that has no file (the disk dropped it) is written first. */
    private void evictMemory() {
        Iterator<Map.Entry<String, byte[]>> oldest = memory.entrySet().iterator();
        while (memoryBytes > memoryLimit && oldest.hasNext()) {
            Map.Entry<String, byte[]> e = oldest.next();
            oldest.remove();
            memoryBytes -= e.getValue().length;
            if (!disk.containsKey(e.getKey()) && e.getValue().length <= diskLimit) writeToDisk(e.getKey(), e.getValue());
        }
    }

    private void writeToDisk(String id, byte[] bytes) {
        Path file = file(id);
        Path tmp = dir.resolve(id + SUFFIX + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the next start deletes it
            }
            throw new UncheckedIOException("cannot write segment file " + file, e);
        }
        Long old = disk.put(id, (long) bytes.length);
        diskBytes += bytes.length - (old == null ? 0 : old);
        evictDisk(id);
    }

    /** Least recently used files are deleted beyond the disk bound (never {@code keep}, the one just written). */
    private void evictDisk(String keep) {
        Iterator<Map.Entry<String, Long>> oldest = disk.entrySet().iterator();
        while (diskBytes > diskLimit && oldest.hasNext()) {
            Map.Entry<String, Long> e = oldest.next();
            if (e.getKey().equals(keep)) continue;
            oldest.remove();
            diskBytes -= e.getValue();
            try {
                Files.deleteIfExists(file(e.getKey()));
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot delete segment file " + file(e.getKey()), ex);
            }
        }
    }

    private void index() {
        record Found(String id, long size, long modified) {}
        List<Found> found = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".tmp")) {
                        Files.deleteIfExists(f);                             // a write cut short
                        continue;
                    }
                    if (!name.endsWith(SUFFIX) || !Files.isRegularFile(f)) continue;
                    String id = name.substring(0, name.length() - SUFFIX.length());
                    long size = Files.size(f);
                    if (validId(id) && size > 0) found.add(new Found(id, size, Files.getLastModifiedTime(f).toMillis()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot index the segment directory " + dir, e);
        }
        found.sort(Comparator.comparingLong(Found::modified));
        for (Found f : found) {
            disk.put(f.id(), f.size());
            diskBytes += f.size();
        }
        evictDisk(null);
    }

    private Path file(String id) {
        return dir.resolve(id + SUFFIX);
    }

    private static void requireId(String id) {
        if (!validId(id)) throw new IllegalArgumentException("not a segment id (64 hex digits): " + id);
    }
}
