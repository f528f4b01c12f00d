package io.chorus.changeset.capture;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;

/**
 * Receives what {@link SlotCapture} decodes, in WAL commit order. All callbacks run on the capture's single reader
 * thread: they must return promptly (hand the work to a bounded queue; to slow capture down, delay
 * {@link SlotCapture#markDelivered}, never block here for long — the server drops a walsender whose client stops
 * answering for wal_sender_timeout, and capture then reconnects).
 *
 * <p>After a reconnect, local changesets that were emitted but not yet confirmed to the server are emitted again with
 * the same GTID and the same deps; consumers drop them by GTID.
 */
public interface CaptureListener {
    /**
     * A local transaction committed: gtid = (node, commit LSN), deps = GSN of the last helper commit before it. A
     * transaction above the spill threshold carries a {@link io.chorus.changeset.ChangeSet.DiskBacked} change list
     * (iterate it; it streams from a file) that stays readable until the changeset has been
     * {@link SlotCapture#markDelivered delivered} and confirmed, or the capture is closed.
     */
    void onLocalChangeSet(ChangeSet cs);

    /** A helper (applier) transaction committed: it applied {@code appliedGsn} (its replication origin LSN). */
    void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn);

    /**
     * A non-transactional logical message ({@code pg_logical_emit_message(false, prefix, content)}): a control signal
     * decoded as soon as it is written. Every local and helper commit before {@code lsn} has been reported before it,
     * which makes it a barrier for "the capture has seen everything committed so far".
     */
    default void onControlMessage(String prefix, byte[] content, Lsn lsn) {
    }

    /** The stream is idle and everything the server had decoded up to {@code walEnd} has been delivered. */
    default void onCaughtUp(Lsn walEnd) {
    }

    /** Capture stopped for good (a non-retriable error); {@link SlotCapture#failure()} returns the same cause. */
    default void onFailure(ChorusException cause) {
    }
}
