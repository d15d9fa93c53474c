package dev.pcwmesh.deploy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read as Docker's parser reads it: comment lines dropped, lines ending in a backslash
 * joined (the next line's leading blanks kept, as Docker keeps them), one instruction per logical line,
 * grouped by build stage; ARG defaults substituted into FROM.
 */
record Dockerfile(Path file, List<String> parserDirectives, Map<String, String> globalArgs, List<Stage> stages) {

    record Instruction(String keyword, String arguments) {}

    record Stage(String image, String name, List<Instruction> instructions) {
        List<Instruction> all(String keyword) { return instructions.stream().filter(i -> i.keyword.equals(keyword)).toList(); }

        Instruction only(String keyword) {
            List<Instruction> found = all(keyword);
            if (found.size() != 1) throw new AssertionError("expected one " + keyword + " in stage " + name + ", found " + found.size());
            return found.getFirst();
        }

        /** ENV instructions of this stage as name to value (KEY=value pairs, quotes removed). */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (Instruction i : all("ENV")) env.putAll(pairs(i.arguments));
            return env;
        }

        Map<String, String> args() {
            Map<String, String> args = new LinkedHashMap<>();
            for (Instruction i : all("ARG")) args.putAll(pairs(i.arguments));
            return args;
        }
    }

    private static final Pattern PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"((?:[^\"\\\\]|\\\\.)*)\"|(\\S*))");

    static Map<String, String> pairs(String arguments) {
        Map<String, String> pairs = new LinkedHashMap<>();
        Matcher m = PAIR.matcher(arguments);
        while (m.find()) pairs.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(4));
        return pairs;
    }

    static Dockerfile parse(Path file) {
        String[] lines = Repository.read(file).split("\n", -1);
        List<String> directives = new ArrayList<>();
        int start = 0;
        while (start < lines.length && lines[start].matches("#\\s*\\w+=.*")) directives.add(lines[start++].substring(1).trim());
        List<String> logical = new ArrayList<>();
        StringBuilder current = null;
        for (int i = start; i < lines.length; i++) {
            String line = lines[i];
            if (line.strip().startsWith("#")) continue;
            if (current == null) {
                if (line.isBlank()) continue;
                current = new StringBuilder();
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1);
            } else {
                current.append(line);
                logical.add(current.toString().strip());
                current = null;
            }
        }
        if (current != null) throw new AssertionError(file + " ends inside a continued line");
        Map<String, String> globalArgs = new LinkedHashMap<>();
        List<Stage> stages = new ArrayList<>();
        List<Instruction> instructions = null;
        for (String l : logical) {
            int space = l.indexOf(' ');
            String keyword = (space < 0 ? l : l.substring(0, space)).toUpperCase(java.util.Locale.ROOT);
            String arguments = space < 0 ? "" : l.substring(space + 1).strip();
            if (keyword.equals("FROM")) {
                String[] parts = arguments.split("\\s+");
                String image = substitute(parts[0], globalArgs);
                String name = parts.length >= 3 && parts[1].equalsIgnoreCase("AS") ? parts[2] : String.valueOf(stages.size());
                instructions = new ArrayList<>();
                stages.add(new Stage(image, name, instructions));
            } else if (instructions == null) {
                if (!keyword.equals("ARG")) throw new AssertionError(file + ": " + keyword + " before the first FROM");
                globalArgs.putAll(pairs(arguments));
            } else {
                instructions.add(new Instruction(keyword, arguments));
            }
        }
        return new Dockerfile(file, directives, globalArgs, stages);
    }

    private static String substitute(String s, Map<String, String> args) {
        Matcher m = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)").matcher(s);
        return m.replaceAll(r -> Matcher.quoteReplacement(args.getOrDefault(r.group(1) != null ? r.group(1) : r.group(2), r.group())));
    }

    Stage stage(String name) {
        return stages.stream().filter(s -> s.name.equals(name)).findFirst().orElseThrow(() -> new AssertionError(file + " has no stage " + name));
    }

    Stage last() { return stages.getLast(); }
}
