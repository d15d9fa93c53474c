package dev.pcwmesh.service;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Media types and text extraction, without the service. */
class TextExtractorTest {

    @Test
    void mediaTypesAreNormalized() {
        assertEquals("text/plain", TextExtractor.normalize(""));
        assertEquals("text/plain", TextExtractor.normalize(null));
        assertEquals("text/html", TextExtractor.normalize(" Text/HTML; charset=UTF-8"));
        assertEquals("text/markdown", TextExtractor.normalize("text/x-markdown"));
        assertEquals("application/pdf", TextExtractor.normalize("application/pdf"));
        Rejected r = assertThrows(Rejected.class, () -> TextExtractor.normalize("application/zip"));
        assertEquals("UNSUPPORTED_MEDIA_TYPE", r.reason());
        assertEquals(Status.Code.INVALID_ARGUMENT, r.code());
    }

    @Test
    void htmlBlocksBecomeParagraphs() {
        String html = "<html><head><title>T</title></head><body><script>x()</script><h2>Head</h2><div><p>One  two\n three.</p>"
                + "<p>Four<br>five.</p></div><pre>  keep\n  this</pre><table><tr><td>a</td><td>b</td></tr></table></body></html>";
        assertEquals("Head\n\nOne two three.\n\nFour\nfive.\n\n  keep\n  this\n\na\tb",
                TextExtractor.fromText(html, TextExtractor.HTML));
    }

    @Test
    void plainAndMarkdownBytesAreStrictUtf8() {
        assertEquals("# Title\n\n今天天气很好。", TextExtractor.fromBytes("\uFEFF# Title\n\n今天天气很好。".getBytes(StandardCharsets.UTF_8), TextExtractor.MARKDOWN));
        assertEquals("INVALID_UTF8", assertThrows(Rejected.class, () -> TextExtractor.fromBytes(new byte[] {(byte) 0xE4, (byte) 0xBB}, TextExtractor.PLAIN)).reason());
        assertEquals("INVALID_UTF8", assertThrows(Rejected.class, () -> TextExtractor.fromBytes(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, TextExtractor.PLAIN)).reason());
        assertEquals("BINARY", assertThrows(Rejected.class, () -> TextExtractor.fromBytes(new byte[] {'%', 'P', 0}, TextExtractor.PLAIN)).reason());
        assertEquals("PDF_AS_TEXT", assertThrows(Rejected.class, () -> TextExtractor.fromText("%PDF-1.4", TextExtractor.PDF)).reason());
        assertEquals("UNREADABLE_PDF", assertThrows(Rejected.class, () -> TextExtractor.fromBytes("hello".getBytes(StandardCharsets.UTF_8), TextExtractor.PDF)).reason());
    }
}
