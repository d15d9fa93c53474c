package dev.pcwmesh.deploy;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.util.Map;
import java.util.Properties;

/**
 * A service's configuration resolved by SmallRye Config as Quarkus resolves it in production: its
 * application.properties (ordinal 250), an optional config/application.properties from the working
 * directory (260, what the Helm chart mounts), and environment variables (300), with ${...} expressions
 * and the environment-name mapping (PCW_ENCODER_ADVERTISED_ADDRESS for pcw.encoder.advertised-address).
 */
final class ServiceConfig {

    private ServiceConfig() {}

    static SmallRyeConfig resolve(ServiceModule service, Properties mountedFile, Map<String, String> environment) {
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder().addDefaultInterceptors()
                .withSources(new PropertiesConfigSource(service.properties(), "application.properties", 250))
                .withSources(new EnvConfigSource(environment, 300));
        if (mountedFile != null) builder.withSources(new PropertiesConfigSource(mountedFile, "config/application.properties", 260));
        return builder.build();
    }

    static String value(SmallRyeConfig config, String key) {
        return config.getOptionalValue(key, String.class).orElseThrow(() -> new AssertionError(key + " resolves to nothing"));
    }
}
