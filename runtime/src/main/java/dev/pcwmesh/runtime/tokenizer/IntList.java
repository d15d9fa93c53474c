package dev.pcwmesh.runtime.tokenizer;

import java.util.Arrays;

/** A growable int array, so that token output does not box every id. */
final class IntList {
    private int[] data = new int[16];
    private int size;

    void add(int v) {
        if (size == data.length) data = Arrays.copyOf(data, size * 2);
        data[size++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) add(v);
    }

    int size() { return size; }

    int get(int i) { return data[i]; }

    int[] toArray() { return Arrays.copyOf(data, size); }
}
