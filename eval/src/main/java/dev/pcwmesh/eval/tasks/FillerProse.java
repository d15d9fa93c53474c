package dev.pcwmesh.eval.tasks;

import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sentences that say nothing a question asks about: the demo corpus's filler templates
 * ({@code models/demo/data.py}, {@code _FILLER}), with their slots filled at random.
 */
public final class FillerProse {
    private static final String[] TEMPLATES = {
            "The {season} was {adj} that year, and the roads were {adj2}.",
            "Travellers often spoke of the {adj} {land} to the {dir}.",
            "Nobody remembered when the old {building} had been built.",
            "The market opened early and closed late on most days.",
            "A {adj} wind came down from the {land} every evening.",
            "Some said the {building} by the {water} was the oldest in the region.",
            "In the {season}, the {water} froze and the children skated on it.",
            "Letters from the {dir} arrived once a week, usually late.",
            "The council met in the {building} to discuss the harvest.",
            "Many stories were told about the {adj} {land}, but few were true.",
            "The bells rang at noon, as they had for a hundred years.",
            "Rain fell for {num_word} days without stopping.",
            "Merchants carried salt, cloth and iron along the {dir} road.",
            "The {building} was painted {colour} after the great storm.",
            "Few people walked by the {water} after dark.",
            "It was a {adj} place, quiet in the {season} and busy in summer.",
            "The old maps showed a {colour} line along the {water}.",
            "Everyone agreed that the bread there was {adj2}.",
            "The festival of lamps was held at the end of the {season}.",
            "A {colour} flag flew above the {building} on feast days.",
            "Beyond the {land} to the {dir} grew {colour} flowers.",
            "Children played in the square while their parents worked.",
            "The library kept records of every storm for {num_word} centuries.",
            "Nothing much happened there, and people liked it that way.",
    };
    private static final Map<String, String[]> WORDS = Map.of(
            "season", new String[]{"winter", "spring", "autumn", "summer"},
            "adj", new String[]{"cold", "mild", "quiet", "strange", "grey", "bright", "long", "gentle", "wild", "dry"},
            "adj2", new String[]{"muddy", "dusty", "good", "crowded", "empty", "safe", "narrow", "famous"},
            "land", new String[]{"hills", "forest", "valley", "marshes", "plains", "mountains", "moors", "cliffs"},
            "dir", new String[]{"north", "south", "east", "west"},
            "building", new String[]{"tower", "mill", "bridge", "chapel", "library", "inn", "granary", "lighthouse"},
            "water", new String[]{"river", "lake", "harbour", "canal", "pond", "sea"},
            "colour", new String[]{"red", "blue", "green", "white", "yellow", "black"},
            "num_word", new String[]{"three", "four", "five", "seven", "nine", "twelve"});
    private static final Pattern SLOT = Pattern.compile("\\{(\\w+)}");

    private FillerProse() {}

    public static String sentence(Random rng) {
        Matcher m = SLOT.matcher(TEMPLATES[rng.nextInt(TEMPLATES.length)]);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String[] words = WORDS.get(m.group(1));
            m.appendReplacement(out, words[rng.nextInt(words.length)]);
        }
        return m.appendTail(out).toString();
    }
}
