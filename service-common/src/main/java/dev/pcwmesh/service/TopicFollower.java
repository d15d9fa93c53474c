package dev.pcwmesh.service;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Reads whole topics from the beginning and follows them, for a service's view of the mesh's
 * compacted state topics. One thread, every partition assigned, no consumer group (each instance
 * needs all of it, and a restarted one rebuilds it from the topics). Records are applied, and
 * waiters on {@code lock} woken, while holding {@code lock}, so a view guarded by the same monitor
 * always sees whole batches.
 */
public final class TopicFollower implements AutoCloseable {
    private final List<String> topics;
    private final Object lock;
    private final Consumer<ConsumerRecord<String, byte[]>> apply;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private final Map<TopicPartition, Long> positions = new HashMap<>();
    private Map<TopicPartition, Long> endAtStart;
    private volatile String problem = "starting";
    private volatile boolean running = true;

    /** Starts following {@code topics} (waiting for any that do not exist yet), applying each record under {@code lock}. */
    public TopicFollower(String bootstrap, String clientId, List<String> topics, Object lock, Consumer<ConsumerRecord<String, byte[]>> apply) {
        this(bootstrap, clientId, topics, lock, apply, Map.of());
    }

    /** A follower whose consumer also gets {@code security} ({@link KafkaSecurity}). */
    public TopicFollower(String bootstrap, String clientId, List<String> topics, Object lock, Consumer<ConsumerRecord<String, byte[]>> apply,
                         Map<String, String> security) {
        this.topics = List.copyOf(topics);
        this.lock = lock;
        this.apply = apply;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20);
        KafkaSecurity.apply(p, security);
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = Thread.ofPlatform().name(clientId).daemon().start(this::run);
    }

    private void run() {
        try {
            List<TopicPartition> partitions = awaitPartitions();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (running) {
                var records = consumer.poll(Duration.ofMillis(200));
                synchronized (lock) {
                    for (ConsumerRecord<String, byte[]> r : records) apply.accept(r);
                    for (TopicPartition tp : partitions) positions.put(tp, consumer.position(tp));
                    if (endAtStart == null && end.entrySet().stream().allMatch(e -> positions.get(e.getKey()) >= e.getValue())) {
                        endAtStart = end;
                        problem = null;
                    }
                    lock.notifyAll();
                }
            }
        } catch (WakeupException e) {
            if (running) problem = "stopped: " + e;
        } catch (RuntimeException e) {
            problem = "stopped reading " + topics + ": " + e;
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** Every partition of the topics, once each topic exists (another service may create it). */
    private List<TopicPartition> awaitPartitions() {
        List<TopicPartition> out = new ArrayList<>();
        for (String topic : topics) {
            List<PartitionInfo> infos = List.of();
            while (infos.isEmpty()) {
                if (!running) throw new WakeupException();
                try {
                    infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                } catch (TimeoutException e) {
                    infos = List.of();
                }
                if (infos.isEmpty()) problem = "waiting for topic " + topic;
            }
            for (PartitionInfo i : infos) out.add(new TopicPartition(topic, i.partition()));
        }
        return out;
    }

    /** Null once everything the topics held at start-up has been applied, else why not yet. */
    public String problem() { return problem; }

    /** Whether the records up to {@code offsets} (partition: next offset to read) have been applied; call holding the lock. */
    public boolean hasRead(Map<TopicPartition, Long> offsets) {
        return offsets.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), 0L) >= e.getValue());
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
