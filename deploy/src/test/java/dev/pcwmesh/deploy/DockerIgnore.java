package dev.pcwmesh.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A .dockerignore as Docker applies it: patterns relative to the context's root ({@code *} and {@code ?}
 * within one path element, {@code **} across any number), a leading {@code !} re-includes, the last
 * matching pattern wins, and a pattern that matches a directory excludes everything under it.
 */
record DockerIgnore(List<Rule> rules) {

    record Rule(Pattern pattern, boolean exclude, String text) {}

    static DockerIgnore parse(String content) {
        List<Rule> rules = new ArrayList<>();
        for (String line : content.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            boolean exclude = !l.startsWith("!");
            String p = (exclude ? l : l.substring(1).strip()).replaceAll("^/+", "").replaceAll("/+$", "");
            rules.add(new Rule(Pattern.compile(regex(p)), exclude, l));
        }
        return new DockerIgnore(rules);
    }

    private static String regex(String glob) {
        StringBuilder r = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                i++;
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') { i++; r.append("(?:.*/)?"); } else r.append(".*");
            } else if (c == '*') r.append("[^/]*");
            else if (c == '?') r.append("[^/]");
            else r.append(Pattern.quote(String.valueOf(c)));
        }
        return r.toString();
    }

    /** Whether a path of the context (relative, with /) is left out of it. */
    boolean excludes(String path) {
        boolean excluded = false;
        String[] parts = path.split("/");
        for (Rule rule : rules) {
            String prefix = "";
            for (String part : parts) {
                prefix = prefix.isEmpty() ? part : prefix + "/" + part;
                if (rule.pattern.matcher(prefix).matches()) {
                    excluded = rule.exclude;
                    break;
                }
            }
        }
        return excluded;
    }
}
