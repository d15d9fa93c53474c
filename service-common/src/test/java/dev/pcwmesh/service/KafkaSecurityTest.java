package dev.pcwmesh.service;

import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kafka security settings are picked from the configuration and reach every client the
 * services create themselves: a trust store that does not exist makes each of them fail as it is
 * built, naming the file, which only happens if the client was given {@code security.protocol=SSL}
 * and the {@code ssl.*} settings.
 */
class KafkaSecurityTest {
    private static final Map<String, String> CONFIG = Map.of(
            "kafka.bootstrap.servers", "localhost:1",
            "kafka.security.protocol", "SASL_SSL",
            "kafka.sasl.mechanism", "SCRAM-SHA-512",
            "kafka.ssl.truststore.location", "/etc/kafka/ca.p12",
            "KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";",
            "KAFKA_SASL_MECHANISM", "PLAIN",
            "mp.messaging.incoming.questions.topic", "pcw.questions",
            "kafka.acks", "all");

    @Test
    void picksSecurityPropertiesFromPropertiesAndEnvironmentNames() {
        Map<String, String> p = KafkaSecurity.properties(CONFIG.keySet(), n -> Optional.ofNullable(CONFIG.get(n)));
        assertEquals(Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",        // kafka.* wins over the environment's spelling
                "ssl.truststore.location", "/etc/kafka/ca.p12",
                "sasl.jaas.config", CONFIG.get("KAFKA_SASL_JAAS_CONFIG")), p);
    }

    @Test
    void everyClientGetsThem() {
        String missing = "/nonexistent/pcw-test-truststore.p12";
        Map<String, String> tls = Map.of("security.protocol", "SSL", "ssl.truststore.location", missing,
                "ssl.truststore.password", "x", "ssl.truststore.type", "PKCS12");
        assertNamesTrustStore(assertThrows(RuntimeException.class, () -> new KafkaPublisher("localhost:1", "t", tls)), missing);
        assertNamesTrustStore(assertThrows(RuntimeException.class,
                () -> new TopicFollower("localhost:1", "t", List.of("x"), new Object(), r -> { }, tls)), missing);
        assertNamesTrustStore(assertThrows(RuntimeException.class,
                () -> KafkaTopics.ensure("localhost:1", tls, List.of(new NewTopic("x", 1, (short) 1)), n -> { })), missing);
        // Without them, the same clients build (and would talk plaintext).
        new KafkaPublisher("localhost:1", "t", Map.of()).close();
    }

    private static void assertNamesTrustStore(Throwable e, String file) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) all.append(t).append('\n');
        assertTrue(all.toString().contains(file), all.toString());
    }
}
