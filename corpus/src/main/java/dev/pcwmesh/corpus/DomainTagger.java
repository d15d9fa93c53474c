package dev.pcwmesh.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A document's domain: the first configured rule whose pattern is found in its source (a path, a URL),
 * else the domain its source metadata names (a JSONL field, the top folder of a directory source),
 * else {@value #DEFAULT}.
 */
public final class DomainTagger {
    public static final String DEFAULT = "default";

    /** {@code domain=regex}: documents whose source contains a match of {@code regex} are in {@code domain}. */
    public record Rule(String domain, Pattern pattern) {
        public static Rule parse(String spec) {
            int eq = spec.indexOf('=');
            if (eq <= 0 || eq == spec.length() - 1) throw new IllegalArgumentException("a domain rule is DOMAIN=REGEX, got '" + spec + "'");
            return new Rule(spec.substring(0, eq).strip(), Pattern.compile(spec.substring(eq + 1)));
        }
    }

    private final List<Rule> rules;

    public DomainTagger(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static DomainTagger parse(List<String> specs) {
        List<Rule> rules = new ArrayList<>();
        for (String s : specs) rules.add(Rule.parse(s));
        return new DomainTagger(rules);
    }

    public String domain(Document d) {
        for (Rule r : rules) if (r.pattern().matcher(d.source()).find()) return r.domain();
        return d.domain() == null || d.domain().isBlank() ? DEFAULT : d.domain();
    }
}
