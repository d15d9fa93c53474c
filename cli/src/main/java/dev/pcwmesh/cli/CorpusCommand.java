package dev.pcwmesh.cli;

import dev.pcwmesh.corpus.CorpusPipeline;
import dev.pcwmesh.corpus.CorpusSettings;
import dev.pcwmesh.corpus.DocumentSource;
import dev.pcwmesh.corpus.FilterSettings;
import dev.pcwmesh.corpus.JsonlSource;
import dev.pcwmesh.corpus.KafkaCorpusStage;
import dev.pcwmesh.corpus.Manifest;
import dev.pcwmesh.corpus.Mixer;
import dev.pcwmesh.corpus.PerplexityFilter;
import dev.pcwmesh.corpus.Progress;
import dev.pcwmesh.eval.ProgressBar;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import dev.pcwmesh.service.KafkaSecurity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "corpus", mixinStandardHelpOptions = true,
        description = {"Prepare long-context training data (Fu et al. 2024): drop messy text (a reason for every rejection), "
                + "remove near duplicates (MinHash LSH), keep holistic long documents and join related short ones, keep the domain mix "
                + "while upsampling long documents, and pack with the model's tokenizer into sequences of a fixed length.",
                "Writes sequences.jsonl, tokens.bin (and mask.bin with --mask), units.jsonl, rejected.jsonl, manifest.json, report.md "
                        + "and PNG plots to --out. With --kafka, runs as a stage from pcw.corpus.in to pcw.corpus.out until stopped."})
public final class CorpusCommand implements Callable<Integer> {
    @Parameters(paramLabel = "INPUT", arity = "0..*", description = "directories (text, Markdown, HTML, PDF files) and JSONL files")
    List<Path> inputs = new ArrayList<>();

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "GGUF", description = "the target model: its tokenizer packs, and its weights score perplexity when --max-perplexity is set")
    Path model;

    @Option(names = "--out", paramLabel = "DIR", description = "where the outputs go (required without --kafka)")
    Path out;

    @Option(names = "--sequence-length", paramLabel = "N", description = "tokens per packed sequence (default: the model's context_length)")
    Integer sequenceLength;

    @Option(names = "--long-min-tokens", defaultValue = "" + CorpusSettings.LONG_MIN_TOKENS, paramLabel = "N",
            description = "units of at least N tokens are long: never downsampled; documents this long are holistic (default: ${DEFAULT-VALUE})")
    int longMinTokens;

    @Option(names = "--short-keep", defaultValue = "" + CorpusSettings.SHORT_KEEP, paramLabel = "P", description = "probability of keeping a shorter unit (default: ${DEFAULT-VALUE})")
    double shortKeep;

    @Option(names = "--mix", paramLabel = "D=S,...", description = "target domain mix, e.g. web=0.5,books=0.3,code=0.2 (default: the input's own)")
    String mix;

    @Option(names = "--budget", paramLabel = "TOKENS", description = "output tokens wanted (default: as many as the mix allows)")
    Long budget;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "the run's seed: the same seed gives the same bytes (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--mask", description = "also write mask.bin: each token's document segment in its sequence (int32, -1 for padding)")
    boolean mask;

    @Option(names = "--topical-min", defaultValue = "0", paramLabel = "J", description = "join ungrouped short documents whose word sets have an estimated Jaccard similarity of at least J (0: off; 0.2 is a good start)")
    double topicalMin;

    @Option(names = "--no-dedup", description = "keep near duplicates")
    boolean noDedup;

    @Option(names = "--dedup-threshold", defaultValue = "0.8", paramLabel = "J", description = "estimated Jaccard similarity from which a document is a near duplicate (default: ${DEFAULT-VALUE})")
    double dedupThreshold;

    @Option(names = "--max-perplexity", paramLabel = "X", description = "reject documents whose sample has a higher perplexity under the model (default: no check)")
    Double maxPerplexity;

    @Option(names = "--perplexity-sample", defaultValue = "256", paramLabel = "N", description = "tokens in that sample, from the document's middle (default: ${DEFAULT-VALUE})")
    int perplexitySample;

    @Option(names = "--domain-rule", paramLabel = "D=REGEX", description = "documents whose source (path, URL) contains a match are in domain D; first match wins, before source metadata")
    List<String> domainRules = new ArrayList<>();

    @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME", description = "JSONL field of the text (default: ${DEFAULT-VALUE})")
    String textField;
    @Option(names = "--id-field", defaultValue = "id", paramLabel = "NAME", description = "JSONL field of the id (default: ${DEFAULT-VALUE})")
    String idField;
    @Option(names = "--domain-field", defaultValue = "domain", paramLabel = "NAME", description = "JSONL field of the domain (default: ${DEFAULT-VALUE})")
    String domainField;
    @Option(names = "--group-field", defaultValue = "group", paramLabel = "NAME", description = "JSONL field of the group: thread, book, site (default: ${DEFAULT-VALUE})")
    String groupField;
    @Option(names = "--order-field", defaultValue = "order", paramLabel = "NAME", description = "JSONL field of the order within a group: date, section number (default: ${DEFAULT-VALUE})")
    String orderField;

    @Option(names = "--min-words", defaultValue = "20", paramLabel = "N", description = "filter: fewer words are too short (default: ${DEFAULT-VALUE})")
    int minWords;
    @Option(names = "--max-garbage-ratio", paramLabel = "R", description = "filter: replacement, control and mojibake characters per character (default: 0.002)")
    Double maxGarbage;
    @Option(names = "--min-letter-ratio", paramLabel = "R", description = "filter: letters per non-space character (default: 0.75)")
    Double minLetters;
    @Option(names = "--max-repeated-lines", paramLabel = "R", description = "filter: characters in repeated lines (default: 0.20)")
    Double maxDupLines;
    @Option(names = "--max-repeated-ngrams", paramLabel = "R", description = "filter: characters in repeated 5-grams (default: 0.15)")
    Double maxDupNgrams;
    @Option(names = "--max-boilerplate", paramLabel = "R", description = "filter: boilerplate lines per line (default: 0.30)")
    Double maxBoilerplate;
    @Option(names = "--max-numeric-lines", paramLabel = "R", description = "filter: characters in numeric lines (default: 0.40)")
    Double maxNumeric;
    @Option(names = "--min-median-line", paramLabel = "N", description = "filter: median line length in characters (default: 12)")
    Integer minMedianLine;
    @Option(names = "--max-run", paramLabel = "N", description = "filter: longest run of characters without a space (default: 200)")
    Integer maxRun;

    @Option(names = "--kafka", paramLabel = "BOOTSTRAP", description = "run as a Kafka stage: documents from pcw.corpus.in (JSON with the JSONL fields), sequences to pcw.corpus.out, until stopped")
    String kafka;

    @Option(names = "--idle-flush-ms", defaultValue = "5000", paramLabel = "MS", description = "Kafka stage: after this long without records, waiting aggregates and the partial sequence go out (default: ${DEFAULT-VALUE})")
    long idleFlushMs;

    @Option(names = "--no-progress", description = "no progress bar on standard error")
    boolean noProgress;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        if (kafka == null && (inputs.isEmpty() || out == null)) {
            throw new ParameterException(spec.commandLine(), "give INPUT... and --out, or --kafka BOOTSTRAP");
        }
        try (GgufFile gguf = GgufFile.open(model)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(gguf);
            String arch = gguf.findString("general.architecture").orElse("llama");
            int length = sequenceLength != null ? sequenceLength : gguf.getInt(arch + ".context_length", 2048);
            CorpusSettings settings = settings(length);
            Model scorer = maxPerplexity != null ? Model.load(model) : null;
            try {
                PerplexityFilter perplexity = scorer == null ? null : new PerplexityFilter(scorer, maxPerplexity, perplexitySample);
                if (kafka != null) return stage(settings, tokenizer, perplexity, stdout);
                List<DocumentSource> sources = inputs.stream().map(p -> DocumentSource.open(p, settings.fields())).toList();
                Progress progress = progress();
                String command = "pcw " + String.join(" ", spec.root().commandLine().getParseResult().originalArgs());
                Manifest m = new CorpusPipeline(settings, tokenizer, model.getFileName().toString(), perplexity)
                        .run(DocumentSource.concat(sources), out, progress, command);
                var d = m.documents();
                stdout.printf(Locale.ROOT, "%d documents read: %d kept, %d rejected, %d unreadable%n", d.read(), d.kept(), d.rejected(), d.unreadable());
                m.rejections().forEach((r, n) -> { if (n > 0) stdout.printf(Locale.ROOT, "  %-18s %d%n", r, n); });
                m.domains().forEach((name, x) -> stdout.printf(Locale.ROOT, "  %-18s %,d of %,d tokens (share %.3f, target %.3f)%n",
                        name, x.outputTokens(), x.inputTokens(), x.outputShare(), x.targetShare()));
                stdout.printf(Locale.ROOT, "%d sequences of %d tokens (%s) in %s; report in %s%n", m.sequences(), m.sequenceLength(), m.dtype(),
                        out.resolve(m.tokenFile()), out.resolve("report.md"));
                stdout.flush();
                return 0;
            } finally {
                if (scorer != null) scorer.close();
            }
        }
    }

    CorpusSettings settings(int length) {
        FilterSettings d = FilterSettings.defaults();
        FilterSettings f = new FilterSettings(minWords, or(maxGarbage, d.maxGarbageRatio()), or(minLetters, d.minLetterRatio()),
                d.minAlphaWordRatio(), or(maxDupLines, d.maxDupLineCharRatio()), d.maxTopBigramRatio(), or(maxDupNgrams, d.maxDupNgramRatio()),
                or(maxBoilerplate, d.maxBoilerplateRatio()), or(maxNumeric, d.maxNumericLineRatio()),
                minMedianLine != null ? minMedianLine : d.minMedianLineChars(), maxRun != null ? maxRun : d.maxRunChars());
        Map<String, Double> target = mix == null ? null : Mixer.parseMix(mix);
        return CorpusSettings.defaults(length).withFilter(f).withLengths(longMinTokens, shortKeep).withMix(target, budget).withSeed(seed)
                .withMask(mask).withTopical(topicalMin).withDedup(!noDedup, dedupThreshold).withPerplexity(maxPerplexity, perplexitySample)
                .withDomainRules(domainRules).withFields(new JsonlSource.Fields(textField, idField, domainField, groupField, orderField, "source"));
    }

    private static double or(Double v, double fallback) {
        return v != null ? v : fallback;
    }

    private Progress progress() {
        if (noProgress) return Progress.NONE;
        ProgressBar bar = new ProgressBar(spec.commandLine().getErr());
        return new Progress() {
            @Override
            public void advanced(long done, long total, String what) { bar.advanced(done, total, what); }

            @Override
            public void finished() { bar.finished(); }
        };
    }

    private int stage(CorpusSettings settings, Tokenizer tokenizer, PerplexityFilter perplexity, PrintWriter stdout) throws InterruptedException {
        Map<String, String> security = KafkaSecurity.properties(System.getenv().keySet(), n -> java.util.Optional.ofNullable(System.getenv(n)));
        KafkaCorpusStage stage = new KafkaCorpusStage(kafka, security, settings, tokenizer, perplexity, Duration.ofMillis(idleFlushMs));
        stdout.printf("corpus stage: %s -> %s at %s (group %s); stop with Ctrl-C%n", KafkaCorpusStage.IN, KafkaCorpusStage.OUT, kafka, KafkaCorpusStage.GROUP);
        stdout.flush();
        Thread runner = Thread.currentThread();
        Thread hook = new Thread(() -> {
            stage.stop();
            try {
                runner.join(10_000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "pcw-corpus-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        Thread status = null;
        if (!noProgress) {
            PrintWriter err = spec.commandLine().getErr();
            status = Thread.ofVirtual().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    var c = stage.counts();
                    err.printf("\rrecords %d, rejected %d, dead letters %d, units %d, sequences out %d   ", c.records(), c.rejected(), c.deadLetters(), c.units(), c.sequences());
                    err.flush();
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }
        try {
            stage.run();
        } finally {
            if (status != null) status.interrupt();
            stage.close();
        }
        return 0;
    }
}
