package dev.pcwmesh.generator;

import dev.pcwmesh.proto.v1.DocumentManifest;
import dev.pcwmesh.proto.v1.Window;
import dev.pcwmesh.runtime.context.Chunker;
import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.service.testing.TestKafka;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;

/**
 * The chunker's part in the generator's tests (no chunker runs there): a document's windows (key
 * {@code doc/index}) and, last, its manifest, published in the chunker's record format to the test
 * broker; and texts of facts and filler in the demo model's document language.
 */
final class ChunkerRecords implements AutoCloseable {
    /** Tokens per window: the demo model's 256-token window holds a window and a question. */
    static final int WINDOW = 100;

    private final Model model;
    private final KafkaProducer<String, byte[]> producer;

    ChunkerRecords(Model model) {
        this.model = model;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** The producer, for the tests' other records (questions). */
    KafkaProducer<String, byte[]> producer() { return producer; }

    /** {@code text} cut into windows as the chunker cuts it. */
    List<int[]> split(String text) {
        return new Chunker(model.tokenizer(), WINDOW).split(text);
    }

    /** The shared prefix of the tests' documents: BOS alone (no instruction). */
    int[] prefix() {
        return new int[] {model.tokenizer().bos()};
    }

    /**
     * What the chunker publishes for a document: its windows and, last, its manifest, which
     * announces {@code windowCount} windows (more than {@code ws} holds for a document whose last
     * windows never arrive).
     */
    void publish(String doc, List<int[]> ws, int windowCount) {
        try {
            String fingerprint = model.fingerprint();
            DocumentManifest.Builder m = DocumentManifest.newBuilder().setDocumentId(doc).setModelFingerprint(fingerprint)
                    .setWindowCount(windowCount).setMaxWindowTokens(WINDOW).setMediaType("text/plain");
            for (int p : prefix()) m.addPrefixTokens(p);
            for (int i = 0; i < ws.size(); i++) {
                Window.Builder w = Window.newBuilder().setDocumentId(doc).setIndex(i).setModelFingerprint(fingerprint);
                for (int t : ws.get(i)) w.addTokens(t);
                for (int p : prefix()) w.addPrefixTokens(p);
                m.addWindowTokens(ws.get(i).length);
                producer.send(new ProducerRecord<>("pcw.windows", doc + "/" + i, w.build().toByteArray())).get();
            }
            producer.send(new ProducerRecord<>("pcw.manifests", doc, m.build().toByteArray())).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sentences of filler with five facts at random places, in the demo model's document language. */
    static String factsText(Random rng, int sentences) {
        String[] facts = {"The code of Brimstad is KT-4411.", "Hana Brolo lives in Quenmouth.", "The ferry to Kelmouth departs at 07:15.",
                "Dorin Vaskell works as a baker.", "Lio Marsen keeps 412 lanterns."};
        String[] filler = {"The market opened early and closed late on most days.", "Rain fell for five days without stopping.",
                "Children played in the square while their parents worked.", "The bells rang at noon, as they had for a hundred years.",
                "Few people walked by the river after dark.", "Letters from the north arrived once a week, usually late."};
        List<String> out = new ArrayList<>();
        for (int i = 0; i < sentences; i++) out.add(filler[rng.nextInt(filler.length)]);
        for (String f : facts) out.add(rng.nextInt(out.size()), f);
        return String.join(" ", out);
    }

    @Override
    public void close() {
        producer.close();
    }
}
