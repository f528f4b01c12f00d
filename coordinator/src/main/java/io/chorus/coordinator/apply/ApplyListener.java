package io.chorus.coordinator.apply;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;

/**
 * Receives the applier's progress and its terminal failure.
 *
 * <p>Called from the applier's helper threads, never under an applier lock: implementations must be thread-safe,
 * return quickly and must not call back into {@link Applier#close()} from the calling thread.
 */
public interface ApplyListener {
    /** Every changeset up to and including {@code upTo} is committed in this database (with synchronous_commit off). */
    void onApplied(Gsn upTo);

    /**
     * The applier met a persistent error and stopped; nothing after the failing GSN was committed, nothing was
     * skipped. Called at most once.
     */
    void onFailed(ChorusException reason);

    /** A listener that ignores everything. */
    ApplyListener NONE = new ApplyListener() {
        @Override
        public void onApplied(Gsn upTo) {
        }

        @Override
        public void onFailed(ChorusException reason) {
        }
    };
}
