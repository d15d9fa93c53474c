package dev.pcwmesh.corpus;

import java.util.Comparator;

/**
 * Orders keys the way people number things: runs of digits compare as numbers ({@code section 2} before
 * {@code section 10}, {@code 1.2} before {@code 1.10}), the rest as text; ISO dates sort by date.
 */
public final class NaturalOrder implements Comparator<String> {
    public static final NaturalOrder INSTANCE = new NaturalOrder();

    @Override
    public int compare(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i), cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i, sj = j;
                while (si < a.length() && a.charAt(si) == '0') si++;
                while (sj < b.length() && b.charAt(sj) == '0') sj++;
                int ei = si, ej = sj;
                while (ei < a.length() && Character.isDigit(a.charAt(ei))) ei++;
                while (ej < b.length() && Character.isDigit(b.charAt(ej))) ej++;
                if (ei - si != ej - sj) return Integer.compare(ei - si, ej - sj);
                int c = a.substring(si, ei).compareTo(b.substring(sj, ej));
                if (c != 0) return c;
                i = ei;
                j = ej;
            } else {
                int c = Character.compare(Character.toLowerCase(ca), Character.toLowerCase(cb));
                if (c != 0) return c;
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
