package dev.pcwmesh.service;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.text.PDFTextStripper;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeVisitor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * The text of a document by its media type: {@code text/plain} and {@code text/markdown} as strict
 * UTF-8; {@code text/html} through jsoup (block elements become paragraphs, scripts and styles are
 * dropped); {@code application/pdf} through PDFBox's text stripper (paragraphs separated by blank
 * lines). Every failure is a {@link Rejected} with a reason.
 */
public final class TextExtractor {
    public static final String PLAIN = "text/plain", MARKDOWN = "text/markdown", HTML = "text/html", PDF = "application/pdf";

    private TextExtractor() {}

    /** The media type without parameters, lower case; empty means text/plain. */
    public static String normalize(String mediaType) {
        String m = mediaType == null ? "" : mediaType.strip().toLowerCase(Locale.ROOT);
        int semi = m.indexOf(';');
        if (semi >= 0) m = m.substring(0, semi).strip();
        if (m.isEmpty()) return PLAIN;
        if (m.equals("text/x-markdown")) return MARKDOWN;
        if (m.equals("application/xhtml+xml")) return HTML;
        if (!Set.of(PLAIN, MARKDOWN, HTML, PDF).contains(m)) {
            throw Rejected.invalid("UNSUPPORTED_MEDIA_TYPE", "media type '" + mediaType + "' is not one of text/plain, text/markdown, text/html, application/pdf");
        }
        return m;
    }

    /** Text sent as a string (already Unicode): plain and markdown as they are, HTML parsed; PDF cannot come as a string. */
    public static String fromText(String text, String mediaType) {
        return switch (mediaType) {
            case HTML -> html(Jsoup.parse(text));
            case PDF -> throw Rejected.invalid("PDF_AS_TEXT", "application/pdf must be sent as bytes (the data field), not as text");
            default -> text;
        };
    }

    /** Raw bytes of a file. */
    public static String fromBytes(byte[] data, String mediaType) {
        return switch (mediaType) {
            case HTML -> {
                try {
                    yield html(Jsoup.parse(new ByteArrayInputStream(data), null, ""));
                } catch (IOException e) {
                    throw new Rejected(io.grpc.Status.Code.INVALID_ARGUMENT, "UNREADABLE_HTML", "the HTML could not be read: " + e.getMessage(), e);
                }
            }
            case PDF -> pdf(data);
            default -> utf8(data);
        };
    }

    /** Strict UTF-8 (a leading byte-order mark is dropped); NUL bytes mean binary data. */
    static String utf8(byte[] data) {
        for (int i = 0; i < data.length; i++) {
            if (data[i] == 0) throw Rejected.invalid("BINARY", "the document holds a NUL byte at offset " + i + ": it looks binary, not text");
        }
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data)).toString();
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        } catch (CharacterCodingException e) {
            throw Rejected.invalid("INVALID_UTF8", "the document is not valid UTF-8 (" + e.getMessage() + ")");
        }
    }

    private static String pdf(byte[] data) {
        if (data.length < 5 || !new String(data, 0, 5, StandardCharsets.ISO_8859_1).equals("%PDF-")) {
            throw Rejected.invalid("UNREADABLE_PDF", "the data does not start with %PDF-: not a PDF file");
        }
        try (PDDocument doc = Loader.loadPDF(data)) {
            PDFTextStripper stripper = new PDFTextStripper();
            stripper.setLineSeparator("\n");
            stripper.setParagraphEnd("\n");
            stripper.setSortByPosition(true);
            return stripper.getText(doc);
        } catch (InvalidPasswordException e) {
            throw Rejected.invalid("ENCRYPTED_PDF", "the PDF is encrypted with a password");
        } catch (IOException e) {
            throw Rejected.invalid("UNREADABLE_PDF", "the PDF could not be read: " + e.getMessage());
        }
    }

    private static final Set<String> BLOCKS = Set.of("p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
            "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "blockquote", "pre",
            "figure", "figcaption", "hr", "address", "details", "summary", "form", "fieldset");
    private static final Set<String> SKIPPED = Set.of("script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object");

    /** The visible text of an HTML document: block elements as paragraphs, {@code <br>} as a line break. */
    static String html(Document doc) {
        StringBuilder out = new StringBuilder();
        Element root = doc.body() != null ? doc.body() : doc;
        root.traverse(new NodeVisitor() {
            int skipping = 0;

            @Override
            public void head(Node node, int depth) {
                if (node instanceof Element e) {
                    String tag = e.normalName();
                    if (SKIPPED.contains(tag)) skipping++;
                    else if (skipping == 0 && tag.equals("br")) out.append('\n');
                    else if (skipping == 0 && BLOCKS.contains(tag)) paragraph(out);
                    if (skipping == 0 && (tag.equals("td") || tag.equals("th")) && !out.isEmpty() && out.charAt(out.length() - 1) != '\n') out.append('\t');
                } else if (node instanceof TextNode t && skipping == 0) {
                    boolean pre = t.parent() instanceof Element p && (p.normalName().equals("pre") || p.closest("pre") != null);
                    String s = pre ? t.getWholeText() : t.text();
                    if (!pre && (out.isEmpty() || Character.isWhitespace(out.charAt(out.length() - 1)))) s = s.stripLeading();
                    out.append(s);
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e) {
                    String tag = e.normalName();
                    if (SKIPPED.contains(tag)) skipping--;
                    else if (skipping == 0 && BLOCKS.contains(tag)) paragraph(out);
                }
            }
        });
        return out.toString().replaceAll("[ \\t]+\\n", "\n").strip();
    }

    /** Ends the current paragraph with a blank line (once). */
    private static void paragraph(StringBuilder out) {
        if (out.isEmpty()) return;
        int end = out.length();
        while (end > 0 && out.charAt(end - 1) == ' ') end--;
        out.setLength(end);
        if (out.isEmpty()) return;
        if (out.charAt(out.length() - 1) != '\n') out.append('\n');
        if (out.length() < 2 || out.charAt(out.length() - 2) != '\n') out.append('\n');
    }
}
