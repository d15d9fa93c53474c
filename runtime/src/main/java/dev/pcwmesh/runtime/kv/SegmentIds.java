package dev.pcwmesh.runtime.kv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Content ids of KV segments: SHA-256 over everything that determines a segment's keys and values. */
public final class SegmentIds {
    private SegmentIds() {}

    public static String of(String modelFingerprint, String ropeSettings, String prefixId, int startPosition, int[] tokens) {
        MessageDigest sha = sha256();
        update(sha, modelFingerprint);
        update(sha, ropeSettings);
        update(sha, prefixId == null ? "" : prefixId);
        ByteBuffer buf = ByteBuffer.allocate(8 + 4 * tokens.length);
        buf.putInt(startPosition).putInt(tokens.length);
        for (int t : tokens) buf.putInt(t);
        sha.update(buf.array());
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void update(MessageDigest sha, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).putInt(b.length).array());
        sha.update(b);
    }

    /** A fresh SHA-256 digest (every JDK has one). */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
