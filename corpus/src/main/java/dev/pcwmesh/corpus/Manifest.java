package dev.pcwmesh.corpus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a corpus run wrote and why ({@value #FILE}): the token file's layout, tokens per domain before and
 * after mixing, length histograms before (documents kept by the filter) and after (units as packed),
 * rejections by reason, and the settings. No clock times, so the same run gives the same bytes.
 */
public record Manifest(String model, int vocabSize, int bos, int eos, int pad, int sequenceLength, long sequences,
                       String tokenFile, String dtype, String maskFile, String sequencesFile, long tokens, long paddingTokens,
                       long seed, Documents documents, Map<String, Long> rejections, Units units,
                       Map<String, Domain> domains, Mixing mixing, Map<String, Long> lengthHistogramBefore,
                       Map<String, Long> lengthHistogramAfter, CorpusSettings settings) {
    public static final String FILE = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    /** Documents read; unreadable; rejected by the filter, perplexity or as near duplicates; kept. */
    public record Documents(long read, long unreadable, long rejected, long kept) {}

    /** Units formed (holistic, aggregates, short alone), output, and cut to fill a budget exactly. */
    public record Units(long holistic, long aggregates, long shortAlone, long output, long cut) {}

    /**
     * One domain: documents kept, packed tokens before sampling, after the length-based sampling, in the
     * output; its target share and its share of the output.
     */
    public record Domain(long documents, long inputTokens, long candidateTokens, long outputTokens, double targetShare, double outputShare) {}

    /**
     * @param budget        output tokens (the sum of every domain's output)
     * @param limitedByData whether the budget is the most the data allowed at the target mix
     */
    public record Mixing(long budget, boolean limitedByData, int longMinTokens, double shortKeep,
                         long shortUnits, long shortKept, long longUnits, long longKept) {}

    public void write(Path dir) throws IOException {
        JSON.writeValue(dir.resolve(FILE).toFile(), this);
    }

    public static Manifest read(Path dir) throws IOException {
        return JSON.readValue(dir.resolve(FILE).toFile(), Manifest.class);
    }
}
