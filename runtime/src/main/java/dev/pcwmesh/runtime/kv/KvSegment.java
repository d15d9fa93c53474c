package dev.pcwmesh.runtime.kv;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The keys and values of a contiguous run of tokens, every layer, as one encode produced them.
 * Keys are stored <b>before</b> rotary embedding, so the segment can be placed at any position
 * when a plan is built. Immutable: the arrays it returns must not be written.
 *
 * <p>Content-addressed: {@link #id()} is a hash of the model fingerprint, the encode-time RoPE
 * settings, the prefix segment id, the start position and the token ids ({@link SegmentIds}), so
 * the same window under the same model is the same segment.
 *
 * @param modelFingerprint the model that encoded it ({@code Model.fingerprint()})
 * @param ropeSettings     RoPE settings in force when it was encoded ({@code RopeConfig.describe()})
 * @param prefixId         id of the segment it attended to while encoding, or null
 * @param tokens           token ids
 * @param positions        the position each token was encoded at
 * @param keys             per layer, {@code tokens.length * kvDim} keys before rotation
 * @param values           per layer, {@code tokens.length * kvDim} values
 */
public record KvSegment(
        String id,
        String modelFingerprint,
        String ropeSettings,
        String prefixId,
        int kvDim,
        int[] tokens,
        int[] positions,
        float[][] keys,
        float[][] values) {

    public KvSegment {
        Objects.requireNonNull(id);
        Objects.requireNonNull(modelFingerprint);
        Objects.requireNonNull(ropeSettings);
        if (tokens.length != positions.length) throw new IllegalArgumentException("tokens and positions differ in length");
        if (keys.length != values.length) throw new IllegalArgumentException("keys and values differ in layer count");
        for (int l = 0; l < keys.length; l++) {
            if (keys[l].length != tokens.length * kvDim || values[l].length != tokens.length * kvDim) {
                throw new IllegalArgumentException("layer " + l + " does not hold " + tokens.length + " rows of " + kvDim);
            }
        }
    }

    public int length() { return tokens.length; }

    public int layers() { return keys.length; }

    /** Position of the first token. */
    public int startPosition() { return positions.length == 0 ? 0 : positions[0]; }

    /** Position after the last token. */
    public int endPosition() { return positions.length == 0 ? 0 : positions[positions.length - 1] + 1; }

    /**
     * Tokens {@code from} (inclusive) to {@code to} (exclusive) as a segment of their own, with
     * their keys and values as encoded (a Λ-shaped window keeps a segment's first and last
     * tokens and drops the middle). Its id derives from this one's and the range.
     */
    public KvSegment slice(int from, int to) {
        if (from < 0 || to > length() || from >= to) {
            throw new IllegalArgumentException("cannot slice [" + from + ", " + to + ") from a segment of " + length() + " tokens");
        }
        if (from == 0 && to == length()) return this;
        float[][] k = new float[keys.length][];
        float[][] v = new float[values.length][];
        for (int l = 0; l < keys.length; l++) {
            k[l] = Arrays.copyOfRange(keys[l], from * kvDim, to * kvDim);
            v[l] = Arrays.copyOfRange(values[l], from * kvDim, to * kvDim);
        }
        MessageDigest sha = SegmentIds.sha256();
        sha.update((id + "[" + from + "," + to + ")").getBytes(StandardCharsets.UTF_8));
        return new KvSegment(HexFormat.of().formatHex(sha.digest()), modelFingerprint, ropeSettings, prefixId, kvDim,
                Arrays.copyOfRange(tokens, from, to), Arrays.copyOfRange(positions, from, to), k, v);
    }

    /** Bytes the keys and values take in memory. */
    public long byteSize() { return 2L * keys.length * tokens.length * kvDim * Float.BYTES; }

    @Override
    public boolean equals(Object o) {
        return o instanceof KvSegment s && s.id.equals(id);
    }

    @Override
    public int hashCode() { return id.hashCode(); }

    @Override
    public String toString() {
        return "KvSegment[" + id.substring(0, Math.min(12, id.length())) + ", " + tokens.length + " tokens at "
                + startPosition() + (prefixId == null ? "" : ", after " + prefixId.substring(0, Math.min(12, prefixId.length()))) + "]";
    }

    /** Ids and positions as text, for diagnostics. */
    public String describeTokens() { return Arrays.toString(tokens) + " @ " + Arrays.toString(positions); }
}
