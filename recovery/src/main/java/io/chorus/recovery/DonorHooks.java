package io.chorus.recovery;

import io.chorus.changeset.Gsn;
import java.time.Duration;

/**
 * What a {@link Donor} needs from its domain. Called on the donor's thread; implementations must be thread-safe and
 * every wait bounded.
 */
public interface DonorHooks {
    /** Whether the domain is ONLINE (only an online member donates). */
    boolean online();

    /** Blocks until the capture has decoded every local commit up to the current end of WAL, or throws. */
    void syncCapture(Duration timeout) throws InterruptedException;

    /**
     * Waits until every local changeset captured so far has come back in total order, or the deadline passes;
     * returns whether none is pending.
     */
    boolean awaitLocalsDelivered(long deadlineNanos) throws InterruptedException;

    /** The highest GSN delivered (certified and handed to the applier). */
    Gsn delivered();

    /** Waits until the helpers committed everything up to {@code gsn}, or the deadline passes; returns whether they did. */
    boolean awaitApplied(Gsn gsn, long deadlineNanos) throws InterruptedException;

    /** Appends a record to the group's log (asynchronously; a lost append is noticed by the joiner's timeout). */
    void append(byte[] record);
}
