package dev.pcwmesh.service;

import org.eclipse.microprofile.config.Config;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The one place the services' Kafka clients get their transport security from: the
 * {@code kafka.security.protocol}, {@code kafka.ssl.*} and {@code kafka.sasl.*} settings (the same
 * {@code kafka.*} properties Quarkus hands to every SmallRye Kafka channel), or the environment
 * variables {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SSL_...}, {@code KAFKA_SASL_...}, passed
 * without the {@code kafka.} prefix to every producer, consumer and admin client a service creates
 * itself ({@link KafkaPublisher}, {@link TopicFollower}, {@link KafkaTopics}, the generator's view).
 * Secrets (passwords, {@code sasl.jaas.config}) belong in environment variables from a Kubernetes
 * Secret, or in files through Kafka's own {@code config.providers}.
 */
public final class KafkaSecurity {
    private KafkaSecurity() { }

    /** Whether a Kafka client property (without prefix) is one this passes on. */
    public static boolean passedOn(String key) {
        return key.equals("security.protocol") || key.startsWith("ssl.") || key.startsWith("sasl.")
                || key.equals("config.providers") || key.startsWith("config.providers.");
    }

    /** The security properties among {@code names} ({@code kafka.x.y} or {@code KAFKA_X_Y}), with their values. */
    public static Map<String, String> properties(Iterable<String> names, Function<String, Optional<String>> value) {
        Map<String, String> out = new TreeMap<>();
        for (String name : names) {
            String key;
            if (name.startsWith("kafka.")) key = name.substring("kafka.".length());
            else if (name.startsWith("KAFKA_")) key = name.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.');
            else continue;
            if (!passedOn(key)) continue;
            Optional<String> v = value.apply(name);
            if (v.isPresent() && !v.get().isEmpty() && (name.startsWith("kafka.") || !out.containsKey(key))) out.put(key, v.get());
        }
        return out;
    }

    /** The security properties of a MicroProfile configuration (a service's application.properties and environment). */
    public static Map<String, String> properties(Config config) {
        return properties(config.getPropertyNames(), n -> config.getOptionalValue(n, String.class));
    }

    /** {@code p} with {@code security} added. */
    public static Properties apply(Properties p, Map<String, String> security) {
        p.putAll(security);
        return p;
    }
}
