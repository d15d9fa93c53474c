package dev.pcwmesh.generator.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/** {@code GET /v1/models}: {@code object} is {@code list}; {@code data} holds the one model this generator serves. */
public record ModelList(String object, List<Model> data) {

    /** A model card: {@code object} is {@code model}, {@code created} in seconds since the epoch. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Model(String id, String object, long created, String ownedBy) {}
}
