package dev.pcwmesh.corpus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Packs units into sequences of exactly {@code length} tokens: each unit as BOS, its tokens, EOS (where
 * the tokenizer has them), one after another; a unit longer than the room left continues at the start of
 * the next sequence. Token ids are never cut (whole documents were tokenized) and no unit is lost: the
 * last sequence is padded (pad id, segment −1) at {@link #finish()}. Each token's segment is the index of
 * its unit's piece within the sequence, so a trainer can mask attention between documents.
 */
public final class Packer {

    /** A run of one unit's packed tokens inside a sequence; the first piece of a unit names its documents. */
    public record Piece(String unit, String domain, int unitOffset, int start, int length, boolean first, boolean last, List<String> documents) {}

    /** A full sequence: tokens, their segment ids (−1 for padding), pieces, pad count. */
    public record Sequence(long index, int[] tokens, int[] segments, List<Piece> pieces, int padding) {}

    @FunctionalInterface
    public interface Sink {
        void sequence(Sequence s);
    }

    private final int length;
    private final int bos, eos, pad;
    private final Sink sink;
    private int[] tokens;
    private int[] segments;
    private List<Piece> pieces = new ArrayList<>();
    private int filled;
    private long index;

    /** @param bos BOS id or −1 for none; @param eos EOS id or −1; @param pad the id written into padding */
    public Packer(int length, int bos, int eos, int pad, Sink sink) {
        if (length < 2) throw new IllegalArgumentException("sequence length must be at least 2, got " + length);
        this.length = length;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
        this.sink = sink;
        this.tokens = new int[length];
        this.segments = new int[length];
    }

    /** BOS and EOS added per unit. */
    public int specials() {
        return (bos >= 0 ? 1 : 0) + (eos >= 0 ? 1 : 0);
    }

    /** The unit's packed tokens: BOS, content, EOS; cut to {@code take} (keeping EOS last when at least 2 remain). */
    public int[] packed(Unit unit, int take) {
        int full = unit.packedLength(specials());
        int[] whole = new int[full];
        int at = 0;
        if (bos >= 0) whole[at++] = bos;
        System.arraycopy(unit.tokens(), 0, whole, at, unit.tokens().length);
        if (eos >= 0) whole[full - 1] = eos;
        if (take >= full) return whole;
        int[] p = Arrays.copyOf(whole, Math.max(0, take));
        if (eos >= 0 && take >= 2) p[take - 1] = eos;
        return p;
    }

    /** Appends {@code take} packed tokens of the unit (all of them when {@code take} is at least its packed length). */
    public void add(Unit unit, int take) {
        int[] p = packed(unit, take);
        int offset = 0;
        while (offset < p.length) {
            int n = Math.min(length - filled, p.length - offset);
            System.arraycopy(p, offset, tokens, filled, n);
            Arrays.fill(segments, filled, filled + n, pieces.size());
            pieces.add(new Piece(unit.id(), unit.domain(), offset, filled, n, offset == 0, offset + n == p.length,
                    offset == 0 ? unit.documents() : List.of()));
            filled += n;
            offset += n;
            if (filled == length) emit(0);
        }
    }

    /** Pads and emits the last, partial sequence (nothing when there is none). */
    public void finish() {
        if (filled == 0) return;
        int padding = length - filled;
        Arrays.fill(tokens, filled, length, pad);
        Arrays.fill(segments, filled, length, -1);
        filled = length;
        emit(padding);
    }

    public boolean hasPartial() { return filled > 0; }

    public long sequences() { return index; }

    private void emit(int padding) {
        Sequence s = new Sequence(index++, tokens, segments, List.copyOf(pieces), padding);
        tokens = new int[length];
        segments = new int[length];
        pieces = new ArrayList<>();
        filled = 0;
        sink.sequence(s);
    }
}
