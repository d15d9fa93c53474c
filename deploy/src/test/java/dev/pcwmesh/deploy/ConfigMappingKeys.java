package dev.pcwmesh.deploy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration keys a SmallRye {@code @ConfigMapping} interface declares, read from its Java source:
 * each method without parameters is a key (its name in kebab case, or {@code @WithName}); a method
 * returning an interface declared in the same file is a group whose methods are keys under it.
 * Gives full keys ({@code pcw.limits.max-concurrent-asks}) and their declared types ({@code int}).
 */
final class ConfigMappingKeys {

    private ConfigMappingKeys() {}

    private static final Pattern PREFIX = Pattern.compile("@ConfigMapping\\s*\\(\\s*prefix\\s*=\\s*\"([^\"]+)\"");
    private static final Pattern INTERFACE = Pattern.compile("\\binterface\\s+(\\w+)[^{]*\\{");
    private static final Pattern METHOD = Pattern.compile(
            "((?:@\\w+(?:\\s*\\([^)]*\\))?\\s*)*)([\\w.]+(?:\\s*<[^;(){}]*>)?)\\s+(\\w+)\\s*\\(\\s*\\)\\s*;");
    private static final Pattern WITH_NAME = Pattern.compile("@WithName\\s*\\(\\s*\"([^\"]+)\"");

    /** Key to declared type, in declaration order. */
    static Map<String, String> parse(String javaSource) {
        String source = stripComments(javaSource);
        Matcher prefix = PREFIX.matcher(source);
        if (!prefix.find()) throw new IllegalArgumentException("no @ConfigMapping(prefix = ...) in the source");
        Map<String, String> bodies = new LinkedHashMap<>();
        Matcher m = INTERFACE.matcher(source);
        String root = null;
        while (m.find()) {
            int open = m.end() - 1;
            int close = matchingBrace(source, open);
            bodies.put(m.group(1), ownBody(source.substring(open + 1, close)));
            if (root == null) root = m.group(1);
        }
        if (root == null) throw new IllegalArgumentException("no interface in the source");
        Map<String, String> keys = new LinkedHashMap<>();
        collect(prefix.group(1), root, bodies, keys, 0);
        return keys;
    }

    private static void collect(String prefix, String type, Map<String, String> bodies, Map<String, String> keys, int depth) {
        if (depth > 10) throw new IllegalArgumentException("groups nested too deep at " + prefix);
        Matcher m = METHOD.matcher(bodies.get(type));
        while (m.find()) {
            String annotations = m.group(1), returnType = m.group(2).replaceAll("\\s", ""), method = m.group(3);
            Matcher withName = WITH_NAME.matcher(annotations);
            String key = prefix + "." + (withName.find() ? withName.group(1) : kebab(method));
            if (bodies.containsKey(returnType)) collect(key, returnType, bodies, keys, depth + 1);
            else keys.put(key, returnType);
        }
    }

    /** An interface's body without the bodies of the interfaces nested in it. */
    private static String ownBody(String body) {
        StringBuilder own = new StringBuilder();
        Matcher m = INTERFACE.matcher(body);
        int from = 0;
        while (m.find(from)) {
            own.append(body, from, m.start());
            from = matchingBrace(body, m.end() - 1) + 1;
        }
        return own.append(body.substring(from)).toString();
    }

    private static int matchingBrace(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            if (s.charAt(i) == '{') depth++;
            else if (s.charAt(i) == '}' && --depth == 0) return i;
        }
        throw new IllegalArgumentException("unbalanced braces");
    }

    private static String stripComments(String s) {
        return s.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
    }

    /** SmallRye's default naming: maxConcurrentAsks becomes max-concurrent-asks. */
    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** The environment variable name SmallRye maps to a key: every character not a letter or digit becomes _, upper case. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(java.util.Locale.ROOT);
    }

    static Optional<String> keyForEnv(Map<String, String> keys, String env) {
        return keys.keySet().stream().filter(k -> envName(k).equals(env)).findFirst();
    }
}
