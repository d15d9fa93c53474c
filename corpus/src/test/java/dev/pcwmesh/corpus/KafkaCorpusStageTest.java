package dev.pcwmesh.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pcwmesh.runtime.Stories260K;
import dev.pcwmesh.runtime.TestModels;
import dev.pcwmesh.runtime.gguf.GgufFile;
import dev.pcwmesh.runtime.tokenizer.Tokenizer;
import dev.pcwmesh.service.testing.TestKafka;
import dev.pcwmesh.service.testing.TestTopics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kafka stage end to end on a KRaft broker in the test JVM: documents in on pcw.corpus.in, packed
 * sequences out on pcw.corpus.out, messy documents to pcw.corpus.rejected and a record that is not a
 * document to pcw.corpus.in.dlq, each with its reason header; offsets committed once all is out.
 */
class KafkaCorpusStageTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void documentsInSequencesOut() throws Exception {
        String bootstrap = TestKafka.start();
        SyntheticCorpus c = new SyntheticCorpus(31);
        Map<String, String> clean = new HashMap<>();
        Map<String, Rejection.Reason> messy = new HashMap<>();
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String text = c.prose(c.topic(40), 200 + 100 * i);
            clean.put("long-" + i, text);
            records.add(new String[]{"long-" + i, JSON.writeValueAsString(Map.of("text", text, "domain", "books"))});
        }
        List<String> thread = c.topic(30);
        for (int i = 1; i <= 4; i++) {
            String text = c.paragraph(thread, 3); // at least 24 words: over the filter's minimum of 20
            clean.put("post-" + i, text);
            records.add(new String[]{"post-" + i, JSON.writeValueAsString(Map.of("id", "post-" + i, "text", text, "domain", "forum", "group", "t1", "order", Integer.toString(5 - i)))});
        }
        for (String style : SyntheticCorpus.MESSY_STYLES) {
            SyntheticCorpus.Labelled l = c.messy(style);
            messy.put("messy-" + style, l.expected());
            records.add(new String[]{"messy-" + style, JSON.writeValueAsString(Map.of("text", l.text()))});
        }
        records.add(new String[]{"bad", "{this is not json"});

        try (GgufFile gguf = GgufFile.open(TestModels.shared(Stories260K.FILE))) {
            Tokenizer tokenizer = Tokenizer.fromGguf(gguf);
            CorpusSettings settings = CorpusSettings.defaults(256).withLengths(512, 1.0); // posts are short: aggregable
            KafkaCorpusStage stage = new KafkaCorpusStage(bootstrap, Map.of(), settings, tokenizer, null, Duration.ofMillis(500));
            for (String[] r : records) TestTopics.send(KafkaCorpusStage.IN, r[0], r[1].getBytes(StandardCharsets.UTF_8));
            Thread runner = new Thread(stage::run, "corpus-stage");
            runner.start();
            try {
                // Every clean document arrives, in whole units; the thread's posts in the order of their order field.
                List<List<String>> aggregates = new ArrayList<>();
                Set<String> docs = new HashSet<>();
                List<ConsumerRecord<String, byte[]>> out = TestTopics.read(KafkaCorpusStage.OUT, k -> true, got -> {
                    docs.clear();
                    aggregates.clear();
                    for (var r : got) {
                        try {
                            for (JsonNode p : JSON.readTree(r.value()).get("pieces")) {
                                if (!p.get("first").asBoolean()) continue;
                                List<String> d = new ArrayList<>();
                                p.get("documents").forEach(x -> d.add(x.asText()));
                                docs.addAll(d);
                                if (d.size() > 1) aggregates.add(d);
                            }
                        } catch (Exception e) { throw new RuntimeException(e); }
                    }
                    return docs.containsAll(clean.keySet());
                });
                assertEquals(clean.keySet(), docs);
                for (var r : out) {
                    JsonNode s = JSON.readTree(r.value());
                    assertEquals(256, s.get("input_ids").size());
                    assertEquals(256, s.get("segments").size());
                }
                assertTrue(!aggregates.isEmpty(), "the thread's posts are joined");
                for (List<String> a : aggregates) {
                    List<String> sorted = new ArrayList<>(a);
                    sorted.sort(java.util.Comparator.reverseOrder());
                    assertEquals(sorted, a, "post-4 has order 1: posts come out in the order field's order");
                }

                List<ConsumerRecord<String, byte[]>> rejected = TestTopics.read(KafkaCorpusStage.REJECTED, k -> true, got -> got.size() >= messy.size());
                assertEquals(messy.size(), rejected.size());
                for (var r : rejected) assertEquals(messy.get(r.key()).name(), TestTopics.header(r, "pcw-reason"), r.key());
                List<ConsumerRecord<String, byte[]>> dead = TestTopics.read(KafkaCorpusStage.DLQ, "bad", got -> !got.isEmpty());
                assertEquals("BAD_RECORD", TestTopics.header(dead.getFirst(), "pcw-reason"));
                assertEquals(KafkaCorpusStage.IN, TestTopics.header(dead.getFirst(), "dead-letter-topic"));

                // Offsets: committed to the end once everything is out.
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                long committed = -1;
                Properties p = new Properties();
                p.put("bootstrap.servers", bootstrap);
                try (Admin admin = Admin.create(p)) {
                    while (System.nanoTime() < deadline) {
                        Map<TopicPartition, OffsetAndMetadata> o = admin.listConsumerGroupOffsets(KafkaCorpusStage.GROUP).partitionsToOffsetAndMetadata().get();
                        OffsetAndMetadata m = o.get(new TopicPartition(KafkaCorpusStage.IN, 0));
                        committed = m == null ? -1 : m.offset();
                        if (committed == records.size()) break;
                        Thread.sleep(200);
                    }
                }
                assertEquals(records.size(), committed, "every input record committed");
                assertTrue(stage.counts().sequences() >= out.size());
            } finally {
                stage.stop();
                runner.join(20_000);
                stage.close();
            }
        }
    }
}
