package dev.pcwmesh.corpus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The labelled set behind the filter's defaults: 600 clean documents in six styles and 40 messy ones of
 * each of eight kinds. The filter must reach precision and recall of at least 0.98 on it and name the
 * planted reason; and each default threshold must lie between the worst clean document's statistic and
 * the mildest messy document's of the kind it is for (printed, as in the README).
 */
class MessyTextFilterTest {
    static final List<SyntheticCorpus.Labelled> SET = new SyntheticCorpus(7).labelled(600, 40);

    @Test
    void precisionAndRecallOnTheLabelledSet() {
        MessyTextFilter filter = new MessyTextFilter(FilterSettings.defaults());
        int tp = 0, fp = 0, fn = 0, rightReason = 0;
        List<String> mistakes = new ArrayList<>();
        for (SyntheticCorpus.Labelled l : SET) {
            Rejection r = filter.check(l.text());
            boolean messy = l.expected() != null;
            if (r != null && messy) { tp++; if (r.reason() == l.expected()) rightReason++; else mistakes.add(l.style() + " as " + r); }
            else if (r != null) { fp++; mistakes.add("clean " + l.style() + " rejected: " + r); }
            else if (messy) { fn++; mistakes.add(l.style() + " kept"); }
        }
        double precision = (double) tp / (tp + fp), recall = (double) tp / (tp + fn);
        System.out.printf(Locale.ROOT, "filter on %d labelled documents: precision %.3f, recall %.3f, right reason %d/%d%n", SET.size(), precision, recall, rightReason, tp);
        assertTrue(precision >= 0.98 && recall >= 0.98, "precision " + precision + ", recall " + recall + ": " + mistakes.stream().limit(10).toList());
        assertTrue(rightReason >= 0.95 * tp, "the planted reason is named: " + mistakes.stream().limit(10).toList());
    }

    @Test
    void everyThresholdSitsBetweenCleanAndMessy() {
        FilterSettings d = FilterSettings.defaults();
        record Rule(String name, String messyStyle, ToDoubleFunction<MessyTextFilter.Stats> stat, double threshold, boolean upper) {}
        List<Rule> rules = List.of(
                new Rule("garbage ratio", "garbage", MessyTextFilter.Stats::garbageRatio, d.maxGarbageRatio(), true),
                new Rule("letter ratio", "symbols", MessyTextFilter.Stats::letterRatio, d.minLetterRatio(), false),
                new Rule("repeated-line characters", "repeated-lines", MessyTextFilter.Stats::dupLineCharRatio, d.maxDupLineCharRatio(), true),
                new Rule("repeated 5-gram characters", "repeated-ngrams", MessyTextFilter.Stats::dupNgramRatio, d.maxDupNgramRatio(), true),
                new Rule("boilerplate lines", "boilerplate", MessyTextFilter.Stats::boilerplateRatio, d.maxBoilerplateRatio(), true),
                new Rule("numeric-line characters", "numbers", MessyTextFilter.Stats::numericLineRatio, d.maxNumericLineRatio(), true),
                new Rule("median line characters", "one-word-lines", s -> s.medianLineChars(), d.minMedianLineChars(), false),
                new Rule("longest run without a space", "blob", s -> s.longestRun(), d.maxRunChars(), true));
        System.out.println("| rule | default | worst clean | mildest messy |");
        for (Rule rule : rules) {
            double worstClean = rule.upper() ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            double mildestMessy = rule.upper() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            for (SyntheticCorpus.Labelled l : SET) {
                MessyTextFilter.Stats s = MessyTextFilter.measure(l.text());
                double v = rule.stat().applyAsDouble(s);
                if (l.expected() == null) {
                    if (rule.name().startsWith("median") && s.lines() < 10) continue; // the rule needs 10 lines
                    worstClean = rule.upper() ? Math.max(worstClean, v) : Math.min(worstClean, v);
                } else if (l.style().equals(rule.messyStyle())) {
                    mildestMessy = rule.upper() ? Math.min(mildestMessy, v) : Math.max(mildestMessy, v);
                }
            }
            System.out.printf(Locale.ROOT, "| %s | %s %.4g | %.4g | %.4g |%n", rule.name(), rule.upper() ? "≤" : "≥", rule.threshold(), worstClean, mildestMessy);
            if (rule.upper()) assertTrue(worstClean <= rule.threshold() && rule.threshold() < mildestMessy, rule + ": clean up to " + worstClean + ", messy from " + mildestMessy);
            else assertTrue(worstClean >= rule.threshold() && rule.threshold() > mildestMessy, rule + ": clean down to " + worstClean + ", messy up to " + mildestMessy);
        }
    }

    @Test
    void everyRejectionHasAReasonAndADetail() {
        MessyTextFilter filter = new MessyTextFilter(FilterSettings.defaults());
        Map<Rejection.Reason, Integer> seen = new EnumMap<>(Rejection.Reason.class);
        for (SyntheticCorpus.Labelled l : SET) {
            Rejection r = filter.check(l.text());
            if (r == null) continue;
            assertTrue(r.detail() != null && !r.detail().isBlank());
            seen.merge(r.reason(), 1, Integer::sum);
        }
        for (String s : SyntheticCorpus.MESSY_STYLES) assertTrue(seen.containsKey(new SyntheticCorpus(1).messy(s).expected()), s);
        assertEquals(Rejection.Reason.TOO_SHORT, filter.check("Too short to train on.").reason());
        assertNull(filter.check(new SyntheticCorpus(3).prose(null, 300)));
    }
}
