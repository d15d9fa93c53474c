package dev.pcwmesh.corpus;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where packed sequences go on disk: {@value #JSONL} (one sequence per line: {@code index},
 * {@code input_ids}, {@code pieces}, {@code padding}), {@value #TOKENS} (every sequence's ids one after
 * another, little-endian {@code uint16} when the vocabulary fits, else {@code uint32}) and, when asked,
 * {@value #MASK} (each token's segment in its sequence as little-endian {@code int32}, −1 for padding:
 * a token may attend only to earlier tokens of its own segment).
 */
public final class PackedOutput implements Packer.Sink, AutoCloseable {
    public static final String JSONL = "sequences.jsonl", TOKENS = "tokens.bin", MASK = "mask.bin";
    private static final JsonFactory JSON = new JsonFactory();

    private final OutputStream jsonlOut;
    private final JsonGenerator jsonl;
    private final OutputStream tokens;
    private final OutputStream mask;
    private final boolean wide;
    private long paddingTokens;

    public PackedOutput(Path dir, int vocabSize, boolean withMask) throws IOException {
        this.jsonlOut = new BufferedOutputStream(Files.newOutputStream(dir.resolve(JSONL)), 1 << 16);
        this.jsonl = JSON.createGenerator(jsonlOut, JsonEncoding.UTF8);
        this.jsonl.setRootValueSeparator(null);
        this.tokens = new BufferedOutputStream(Files.newOutputStream(dir.resolve(TOKENS)), 1 << 16);
        this.mask = withMask ? new BufferedOutputStream(Files.newOutputStream(dir.resolve(MASK)), 1 << 16) : null;
        this.wide = vocabSize > 65536;
    }

    public static String dtype(int vocabSize) {
        return vocabSize > 65536 ? "uint32" : "uint16";
    }

    @Override
    public void sequence(Packer.Sequence s) {
        try {
            jsonl.writeStartObject();
            jsonl.writeNumberField("index", s.index());
            jsonl.writeArrayFieldStart("input_ids");
            for (int t : s.tokens()) jsonl.writeNumber(t);
            jsonl.writeEndArray();
            jsonl.writeArrayFieldStart("pieces");
            for (Packer.Piece p : s.pieces()) {
                jsonl.writeStartObject();
                jsonl.writeStringField("unit", p.unit());
                jsonl.writeStringField("domain", p.domain());
                jsonl.writeNumberField("unit_offset", p.unitOffset());
                jsonl.writeNumberField("start", p.start());
                jsonl.writeNumberField("length", p.length());
                jsonl.writeBooleanField("first", p.first());
                jsonl.writeBooleanField("last", p.last());
                if (p.first()) {
                    jsonl.writeArrayFieldStart("documents");
                    for (String d : p.documents()) jsonl.writeString(d);
                    jsonl.writeEndArray();
                }
                jsonl.writeEndObject();
            }
            jsonl.writeEndArray();
            jsonl.writeNumberField("padding", s.padding());
            jsonl.writeEndObject();
            jsonl.flush();
            jsonlOut.write('\n');

            ByteBuffer b = ByteBuffer.allocate(s.tokens().length * (wide ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
            for (int t : s.tokens()) {
                if (wide) b.putInt(t);
                else b.putShort((short) t);
            }
            tokens.write(b.array());
            if (mask != null) {
                ByteBuffer m = ByteBuffer.allocate(s.segments().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int g : s.segments()) m.putInt(g);
                mask.write(m.array());
            }
            paddingTokens += s.padding();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public long paddingTokens() { return paddingTokens; }

    @Override
    public void close() throws IOException {
        jsonl.close();
        jsonlOut.close();
        tokens.close();
        if (mask != null) mask.close();
    }
}
