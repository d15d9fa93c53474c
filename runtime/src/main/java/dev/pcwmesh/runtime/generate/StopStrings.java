package dev.pcwmesh.runtime.generate;

import java.util.List;

/**
 * Cuts generated text at the first stop string and holds back any tail that could still become
 * one, so a listener never sees text that is later retracted.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.stops = stops;
    }

    /** Adds decoded text and returns what may be released now. */
    String push(String piece) {
        text.append(piece);
        int maxStop = 0;
        for (String s : stops) maxStop = Math.max(maxStop, s.length());
        int from = Math.max(0, emitted - maxStop);
        int cut = -1;
        for (String s : stops) {
            int i = text.indexOf(s, from);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0) {
            stopped = true;
            text.setLength(cut);
            return release(cut);
        }
        return release(text.length() - heldBack());
    }

    /** Releases everything not yet released (at the end of generation). */
    String finish() {
        return release(text.length());
    }

    boolean stopped() { return stopped; }

    String text() { return text.toString(); }

    private String release(int upTo) {
        if (upTo <= emitted) return "";
        String out = text.substring(emitted, upTo);
        emitted = upTo;
        return out;
    }

    /** Length of the longest tail of the text that is a proper prefix of a stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, text.length() - emitted); len > best; len--) {
                if (text.substring(text.length() - len).equals(s.substring(0, len))) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
