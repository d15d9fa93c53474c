package dev.pcwmesh.corpus;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Units on disk between the first pass (filter, tokenize, aggregate) and the last (pack), so memory
 * stays constant however large the corpus: id, domain, kind, document ids, token ids.
 */
public final class UnitSpill implements AutoCloseable {
    private final Path file;
    private final DataOutputStream out;
    private long units;

    public UnitSpill(Path file) throws IOException {
        this.file = file;
        this.out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
    }

    public void write(Unit u) throws IOException {
        out.writeUTF(u.id());
        out.writeUTF(u.domain());
        out.writeByte(u.kind().ordinal());
        out.writeInt(u.documents().size());
        for (String d : u.documents()) out.writeUTF(d);
        out.writeInt(u.tokens().length);
        for (int t : u.tokens()) out.writeInt(t);
        units++;
    }

    public long units() { return units; }

    /** Closes the writing side; then {@link #read} may be called. */
    @Override
    public void close() throws IOException {
        out.close();
    }

    /** Every unit, in the order written. */
    public void read(Consumer<Unit> each) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            for (long i = 0; i < units; i++) {
                String id = in.readUTF();
                String domain = in.readUTF();
                Unit.Kind kind = Unit.Kind.values()[in.readByte()];
                int nd = in.readInt();
                List<String> docs = new ArrayList<>(nd);
                for (int k = 0; k < nd; k++) docs.add(in.readUTF());
                int[] tokens = new int[in.readInt()];
                for (int k = 0; k < tokens.length; k++) tokens[k] = in.readInt();
                each.accept(new Unit(id, domain, kind, docs, tokens));
            }
        } catch (EOFException e) {
            throw new IOException("the unit spill " + file + " is truncated", e);
        }
    }

    public void delete() throws IOException {
        Files.deleteIfExists(file);
    }
}
