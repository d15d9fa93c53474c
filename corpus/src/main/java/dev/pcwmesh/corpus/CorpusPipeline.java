package dev.pcwmesh.corpus;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code pcw corpus}: sources in, packed training sequences out, in three passes over constant memory.
 * <ol>
 *   <li>Read every document; {@link Preparer} filters, tokenizes, removes near duplicates, tags and
 *       classifies it; holistic and lone short documents become units at once, aggregable ones wait in the
 *       {@link Aggregator}; units go to a spill file on disk, and the {@link Mixer} notes 24 bytes of each.</li>
 *   <li>The mixer decides how many tokens of each unit to take.</li>
 *   <li>The spill is read back in order and the taken units are packed ({@link Packer}) into
 *       {@link PackedOutput}'s files.</li>
 * </ol>
 * Then {@link Manifest}, {@link Report} and {@link ReportPlots}. Besides: {@value #REJECTED} (every
 * rejected or unreadable document with its reason) and {@value #UNITS} (every output unit with its documents).
 */
public final class CorpusPipeline {
    public static final String REJECTED = "rejected.jsonl", UNITS = "units.jsonl";
    private static final String SPILL = ".units.spill";
    private static final JsonFactory JSON = new JsonFactory();

    private final CorpusSettings settings;
    private final Tokenizer tokenizer;
    private final String modelName;
    private final PerplexityFilter perplexity;

    public CorpusPipeline(CorpusSettings settings, Tokenizer tokenizer, String modelName, PerplexityFilter perplexity) {
        this.settings = settings;
        this.tokenizer = tokenizer;
        this.modelName = modelName;
        this.perplexity = perplexity;
    }

    /** The separator between the parts of an aggregate: a blank line in the model's tokens. */
    public static int[] separator(Tokenizer tokenizer) {
        return tokenizer.encode("\n\n", false, false);
    }

    /** Runs every pass over {@code source} into {@code out} (created if needed); returns the manifest written. */
    public Manifest run(DocumentSource source, Path out, Progress progress, String command) throws IOException {
        Files.createDirectories(out);
        Preparer preparer = Preparer.from(settings, tokenizer, perplexity);
        Mixer mixer = new Mixer(settings.seed());
        UnitSpill spill = new UnitSpill(out.resolve(SPILL));
        Map<Rejection.Reason, Long> rejections = new EnumMap<>(Rejection.Reason.class);
        for (Rejection.Reason r : Rejection.Reason.values()) rejections.put(r, 0L);
        Map<String, Long> docsPerDomain = new TreeMap<>();
        LengthHistogram before = new LengthHistogram(), after = new LengthHistogram();
        long[] counts = new long[4]; // read, unreadable, rejected, kept
        long[] kinds = new long[3];
        int specials = (tokenizer.bos() >= 0 ? 1 : 0) + (tokenizer.eos() >= 0 ? 1 : 0);

        try (OutputStream rejOut = new BufferedOutputStream(Files.newOutputStream(out.resolve(REJECTED)));
             JsonGenerator rej = JSON.createGenerator(rejOut, JsonEncoding.UTF8)) {
            rej.setRootValueSeparator(null);
            Aggregator<Void> aggregator = new Aggregator<>(settings.sequenceLength(), separator(tokenizer), settings.maxBufferedTokens(),
                    settings.topicalMin(), settings.seed(), (unit, origins) -> spill(unit, spill, mixer, kinds, specials));
            long total = source.totalBytes();
            source.read(new DocumentSource.Sink() {
                @Override
                public void document(Document doc, long bytesDone) {
                    counts[0]++;
                    Preparer.Outcome o = preparer.prepare(doc);
                    if (o.rejection() != null) {
                        counts[2]++;
                        rejections.merge(o.rejection().reason(), 1L, Long::sum);
                        writeRejection(rej, rejOut, doc.id(), doc.source(), o.domain(), o.rejection());
                    } else {
                        counts[3]++;
                        Preparer.Prepared p = o.prepared();
                        docsPerDomain.merge(p.domain(), 1L, Long::sum);
                        before.add(p.tokens().length + specials);
                        switch (p.kind()) {
                            case HOLISTIC -> spill(new Unit(doc.id(), p.domain(), Unit.Kind.HOLISTIC, List.of(doc.id()), p.tokens()), spill, mixer, kinds, specials);
                            case ALONE -> spill(new Unit(doc.id(), p.domain(), Unit.Kind.SHORT, List.of(doc.id()), p.tokens()), spill, mixer, kinds, specials);
                            case AGGREGABLE -> aggregator.add(doc, p.domain(), p.tokens(), null);
                        }
                    }
                    progress.advanced(bytesDone, total, "read " + doc.id());
                }

                @Override
                public void unreadable(String id, String src, Rejection why, long bytesDone) {
                    counts[0]++;
                    counts[1]++;
                    rejections.merge(why.reason(), 1L, Long::sum);
                    writeRejection(rej, rejOut, id, src, null, why);
                    progress.advanced(bytesDone, total, "read " + id);
                }
            });
            aggregator.flush();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        spill.close();

        Mixer.Plan plan = mixer.plan(settings.mix(), settings.budget(), settings.shortKeep(), settings.longMinTokens());

        long outputUnits;
        long padding;
        Packer packer;
        try (PackedOutput output = new PackedOutput(out, tokenizer.vocabSize(), settings.mask());
             OutputStream unitsOut = new BufferedOutputStream(Files.newOutputStream(out.resolve(UNITS)));
             JsonGenerator units = JSON.createGenerator(unitsOut, JsonEncoding.UTF8)) {
            units.setRootValueSeparator(null);
            int pad = tokenizer.eos() >= 0 ? tokenizer.eos() : 0;
            packer = new Packer(settings.sequenceLength(), tokenizer.bos(), tokenizer.eos(), pad, output);
            long[] index = {0}, taken = {0};
            long totalUnits = spill.units();
            spill.read(unit -> {
                int take = plan.take()[(int) index[0]++];
                if (take > 0) {
                    packer.add(unit, take);
                    after.add(take);
                    taken[0]++;
                    writeUnit(units, unitsOut, unit, take, specials);
                }
                progress.advanced(index[0], totalUnits, "pack " + unit.id());
            });
            packer.finish();
            outputUnits = taken[0];
            output.close();
            padding = output.paddingTokens();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            spill.delete();
        }
        progress.finished();

        Map<String, Manifest.Domain> domains = new LinkedHashMap<>();
        long outTotal = plan.outputTokens().values().stream().mapToLong(Long::longValue).sum();
        for (String d : plan.inputTokens().keySet()) {
            long o = plan.outputTokens().get(d);
            domains.put(d, new Manifest.Domain(docsPerDomain.getOrDefault(d, 0L), plan.inputTokens().get(d), plan.candidateTokens().get(d), o,
                    plan.shares().get(d), outTotal == 0 ? 0 : (double) o / outTotal));
        }
        Map<String, Long> byReason = new LinkedHashMap<>();
        rejections.forEach((r, n) -> byReason.put(r.label(), n));
        Manifest manifest = new Manifest(modelName, tokenizer.vocabSize(), tokenizer.bos(), tokenizer.eos(),
                tokenizer.eos() >= 0 ? tokenizer.eos() : 0, settings.sequenceLength(), packer.sequences(),
                PackedOutput.TOKENS, PackedOutput.dtype(tokenizer.vocabSize()), settings.mask() ? PackedOutput.MASK : null, PackedOutput.JSONL,
                packer.sequences() * settings.sequenceLength(), padding, settings.seed(),
                new Manifest.Documents(counts[0], counts[1], counts[2] - 0, counts[3]), byReason,
                new Manifest.Units(kinds[0], kinds[1], kinds[2], outputUnits, plan.cut()), domains,
                new Manifest.Mixing(plan.budget(), plan.limitedByData(), settings.longMinTokens(), settings.shortKeep(),
                        plan.shortUnits(), plan.shortKept(), plan.longUnits(), plan.longKept()),
                before.buckets(), after.buckets(), settings);
        manifest.write(out);
        ReportPlots.write(manifest, out);
        Report.write(manifest, out, command);
        return manifest;
    }

    private static void spill(Unit unit, UnitSpill spill, Mixer mixer, long[] kinds, int specials) {
        try {
            spill.write(unit);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        mixer.add(unit.id(), unit.domain(), unit.packedLength(specials));
        kinds[unit.kind().ordinal()]++;
    }

    private static void writeRejection(JsonGenerator g, OutputStream raw, String id, String source, String domain, Rejection r) {
        try {
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeStringField("source", source);
            if (domain != null) g.writeStringField("domain", domain);
            g.writeStringField("reason", r.reason().label());
            g.writeStringField("detail", r.detail());
            g.writeEndObject();
            g.flush();
            raw.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeUnit(JsonGenerator g, OutputStream raw, Unit u, int take, int specials) {
        try {
            g.writeStartObject();
            g.writeStringField("id", u.id());
            g.writeStringField("domain", u.domain());
            g.writeStringField("kind", u.kind().label());
            g.writeNumberField("tokens", u.packedLength(specials));
            g.writeNumberField("taken", take);
            g.writeArrayFieldStart("documents");
            for (String d : u.documents()) g.writeString(d);
            g.writeEndArray();
            g.writeEndObject();
            g.flush();
            raw.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
