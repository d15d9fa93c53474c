package dev.pcwmesh.cli;

import dev.pcwmesh.runtime.model.Backend;
import picocli.CommandLine.Option;

/** {@code --backend cpu|cuda|auto}: where the model's forward passes run. */
public final class BackendOption {
    @Option(names = "--backend", paramLabel = "B", defaultValue = "auto", converter = Converter.class,
            description = "cpu, cuda or auto (a GPU when one is usable; default: ${DEFAULT-VALUE})")
    Backend backend = Backend.AUTO;

    static final class Converter implements picocli.CommandLine.ITypeConverter<Backend> {
        @Override
        public Backend convert(String value) {
            return Backend.parse(value);
        }
    }
}
