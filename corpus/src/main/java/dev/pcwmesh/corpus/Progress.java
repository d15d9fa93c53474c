package dev.pcwmesh.corpus;

/** Told as the pipeline advances, so a long run can show how far it is (the cli draws a bar). */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total, what) -> {};

    /** @param what the stage and the current item, for example "read books/a.txt" */
    void advanced(long done, long total, String what);

    default void finished() {}
}
