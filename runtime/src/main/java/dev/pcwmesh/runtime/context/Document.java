package dev.pcwmesh.runtime.context;

import java.util.Arrays;
import java.util.List;

/**
 * A document as token windows, after a shared prefix (BOS and an optional instruction, possibly
 * empty). The windows in order are the whole document.
 */
public record Document(int[] prefix, List<int[]> windows) {

    public Document {
        if (windows.isEmpty()) throw new IllegalArgumentException("the document has no windows");
        for (int i = 0; i < windows.size(); i++) {
            if (windows.get(i).length == 0) throw new IllegalArgumentException("window " + i + " is empty");
        }
        prefix = prefix.clone();
        windows = List.copyOf(windows);
    }

    /** Tokens of all windows. */
    public int tokens() {
        return windows.stream().mapToInt(w -> w.length).sum();
    }

    public int longestWindow() {
        return windows.stream().mapToInt(w -> w.length).max().orElse(0);
    }

    /** The windows one after another: the document as one stream. */
    public int[] concatenated() {
        return windows.stream().flatMapToInt(Arrays::stream).toArray();
    }
}
