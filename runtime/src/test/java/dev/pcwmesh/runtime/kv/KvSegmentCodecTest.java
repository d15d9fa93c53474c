package dev.pcwmesh.runtime.kv;

import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.context.Encoder;
import dev.pcwmesh.runtime.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvSegmentCodecTest {
    static Model model;
    static KvSegment prefix;
    static KvSegment segment;

    @BeforeAll
    static void encode() {
        model = Model.load(TestModels.shared("stories260K.gguf"));
        Encoder e = new Encoder(model);
        prefix = e.encode(new int[]{1, 403}, 0);
        segment = e.encode(new int[]{407, 261, 378, 432, 383}, 2, prefix);
    }

    @AfterAll
    static void close() { model.close(); }

    @ParameterizedTest
    @EnumSource(KvSegmentCodec.Payload.class)
    void roundTripKeepsEverythingWithinPayloadPrecision(KvSegmentCodec.Payload payload) {
        KvSegment back = KvSegmentCodec.fromBytes(KvSegmentCodec.toBytes(segment, payload));
        assertEquals(segment.id(), back.id());
        assertEquals(segment.modelFingerprint(), back.modelFingerprint());
        assertEquals(segment.ropeSettings(), back.ropeSettings());
        assertEquals(prefix.id(), back.prefixId());
        assertArrayEquals(segment.tokens(), back.tokens());
        assertArrayEquals(segment.positions(), back.positions());
        double tolerance = payload == KvSegmentCodec.Payload.F16 ? 1e-3 : 8e-3; // relative: 11 and 8 significant bits
        for (int l = 0; l < segment.layers(); l++) {
            for (int i = 0; i < segment.keys()[l].length; i++) {
                float k = segment.keys()[l][i], v = segment.values()[l][i];
                assertEquals(k, back.keys()[l][i], Math.abs(k) * tolerance + 1e-6);
                assertEquals(v, back.values()[l][i], Math.abs(v) * tolerance + 1e-6);
            }
        }
    }

    @Test
    void segmentWithoutPrefixHasNullPrefixAfterRoundTrip() {
        assertNull(KvSegmentCodec.fromBytes(KvSegmentCodec.toBytes(prefix, KvSegmentCodec.Payload.BF16)).prefixId());
    }

    @Test
    void corruptedBytesAreDetected() {
        byte[] bytes = KvSegmentCodec.toBytes(segment, KvSegmentCodec.Payload.F16);
        byte[] flipped = bytes.clone();
        flipped[bytes.length / 2] ^= 0x10;
        assertMessage(flipped, "checksum");
        assertMessage(Arrays.copyOf(bytes, bytes.length - 7), "truncated");
        byte[] magic = bytes.clone();
        magic[0] = 'X';
        assertMessage(magic, "bad magic");
        byte[] version = bytes.clone();
        version[4] = 9;
        assertMessage(version, "version");
        byte[] payload = bytes.clone();
        payload[6] = 7;
        assertMessage(payload, "payload type");
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, KvSegmentCodec.toBf16(1.0f));
        // 1 + 2^-8 lies exactly between two bf16 values: ties go to the even one (1.0).
        assertEquals((short) 0x3F80, KvSegmentCodec.toBf16(Float.intBitsToFloat(0x3F808000)));
        assertEquals((short) 0x3F82, KvSegmentCodec.toBf16(Float.intBitsToFloat(0x3F818000)));
        assertTrue(Float.isNaN(Float.intBitsToFloat(KvSegmentCodec.toBf16(Float.NaN) << 16)));
    }

    private static void assertMessage(byte[] bytes, String expected) {
        var e = assertThrows(KvSegmentCodec.KvFormatException.class, () -> KvSegmentCodec.fromBytes(bytes));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
