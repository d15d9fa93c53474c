package dev.pcwmesh.runtime.generate;

/** Why generation ended. */
public enum StopReason {
    /** The model produced an end-of-generation token (end of sequence, end of turn). */
    END_OF_GENERATION,
    /** A stop string appeared; the text ends before it. */
    STOP_STRING,
    /** The maximum number of new tokens was reached. */
    MAX_TOKENS
}
