package dev.pcwmesh.runtime.context;

import dev.pcwmesh.runtime.model.Model;
import dev.pcwmesh.runtime.model.Rope;
import dev.pcwmesh.runtime.model.RopeConfig;

/**
 * How positions enter attention: the rotary settings (with any rescaling of the frequencies) and,
 * optionally, ReRoPE's clipping of distances. Keys and values of an encoded segment depend on it,
 * so it is part of a segment's content id, and a plan only places segments encoded under its own.
 *
 * @param rerope null for none
 */
public record PositionEncoding(RopeConfig rope, ReRope rerope) {

    /** What the model file says, without ReRoPE. */
    public static PositionEncoding of(Model model) {
        return new PositionEncoding(model.config().rope(), null);
    }

    /** Settings that depend on the sequence length (dynamic NTK) resolved for {@code length} tokens. */
    public PositionEncoding forLength(int length) {
        return new PositionEncoding(rope.forLength(length), rerope);
    }

    public Rope newRope() {
        return new Rope(rope);
    }

    /** A stable description, part of segment ids. */
    public String describe() {
        return rerope == null ? rope.describe() : rope.describe() + "|" + rerope.describe();
    }
}
