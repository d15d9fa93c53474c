package dev.pcwmesh.eval;

/** Told after every run of the model, so a long evaluation can show how far it is. */
public interface Progress {
    Progress NONE = (done, total, what) -> {};

    /** @param what the run just finished, for example "parallel 4x 50%" */
    void advanced(long done, long total, String what);

    default void finished() {}
}
