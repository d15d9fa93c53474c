package dev.pcwmesh.service.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The API keys a service accepts, each with a name (the key id that logs and per-key limits use).
 * One entry a line in a file ({@code pcw.security.api-keys-file}, typically a Kubernetes Secret
 * mounted as a file) or comma-separated in an environment variable: {@code name:key}, or
 * {@code name:sha256:<64 hex digits>} for a key stored as its SHA-256 digest. Blank lines and
 * lines starting with {@code #} are skipped. Only digests are kept in memory; a presented key is
 * compared with every entry in constant time.
 */
public final class ApiKeys {
    /** One accepted key: its name and the SHA-256 digest of the key. */
    private record Entry(String name, byte[] digest) { }

    private final List<Entry> entries;

    private ApiKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** The keys of the file (if given) and of {@code inline} (comma-separated entries, if given). */
    public static ApiKeys load(Optional<Path> file, Optional<String> inline) {
        List<Entry> entries = new ArrayList<>();
        if (file.isPresent()) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file.get(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the API keys file " + file.get(), e);
            }
            for (int i = 0; i < lines.size(); i++) parse(lines.get(i), file.get() + " line " + (i + 1), entries);
        }
        if (inline.isPresent()) {
            for (String part : inline.get().split(",")) parse(part, "the inline API keys", entries);
        }
        return new ApiKeys(entries);
    }

    /** Keys from entries as the file has them (one a string). */
    public static ApiKeys of(String... lines) {
        List<Entry> entries = new ArrayList<>();
        for (String line : lines) parse(line, "an API key entry", entries);
        return new ApiKeys(entries);
    }

    private static void parse(String line, String where, List<Entry> into) {
        String s = line.strip();
        if (s.isEmpty() || s.startsWith("#")) return;
        int colon = s.indexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException(where + ": expected name:key or name:sha256:<hex>");   // the line itself is not repeated: it may hold a key
        }
        String name = s.substring(0, colon).strip();
        String rest = s.substring(colon + 1).strip();
        byte[] digest;
        if (rest.toLowerCase(Locale.ROOT).startsWith("sha256:")) {
            String hex = rest.substring("sha256:".length()).strip();
            if (hex.length() != 64) throw new IllegalArgumentException(where + ": a sha256 digest has 64 hex digits");
            digest = HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
        } else {
            digest = sha256(rest);
        }
        for (Entry e : into) {
            if (e.name().equals(name)) throw new IllegalArgumentException(where + ": the key name '" + name + "' appears twice");
        }
        into.add(new Entry(name, digest));
    }

    /** The name of the key, when it is one of these. */
    public Optional<String> identify(String presented) {
        if (presented == null || presented.isEmpty()) return Optional.empty();
        byte[] digest = sha256(presented);
        String found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.digest(), digest) && found == null) found = e.name();   // every entry compared
        }
        return Optional.ofNullable(found);
    }

    public int size() { return entries.size(); }

    public boolean isEmpty() { return entries.isEmpty(); }

    /**
     * The key a request presents: {@code Authorization: Bearer <key>}, else {@code x-api-key: <key>}
     * (HTTP headers or gRPC metadata, either may be null).
     */
    public static Optional<String> presented(String authorization, String xApiKey) {
        if (authorization != null) {
            String a = authorization.strip();
            if (a.regionMatches(true, 0, "Bearer ", 0, 7) && a.length() > 7) return Optional.of(a.substring(7).strip());
        }
        if (xApiKey != null && !xApiKey.isBlank()) return Optional.of(xApiKey.strip());
        return Optional.empty();
    }

    /** The SHA-256 of a key, as the file's {@code sha256:} form writes it (lower-case hex). */
    public static String sha256Hex(String key) {
        return HexFormat.of().formatHex(sha256(key));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
