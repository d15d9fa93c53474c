package dev.pcwmesh.runtime.context;

import java.nio.file.Path;
import java.util.List;

final class RandomModels {
    static List<Path> all() { return List.of(); }
}
