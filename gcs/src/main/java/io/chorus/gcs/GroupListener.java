package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;

/**
 * Receives what a {@link Group} delivers. All methods are called on one thread owned by the group (named
 * {@code chorus-gcs-deliver-<node>}), never concurrently, in the order the events happened. A slow listener slows the
 * group down (the hand-off queue is bounded and never drops); a listener must not throw.
 */
public interface GroupListener {

    /**
     * A record committed to the replicated log, in GSN order: the GSNs passed are contiguous, start right after the
     * {@code resumeAfter} given to {@link Group#join}, and are identical on every member.
     *
     * @param gsn the record's position among all delivered records (from 1)
     * @param origin the member that appended it
     * @param originSeq the sequence number its origin gave it (0 = not deduplicated)
     * @param payload the bytes appended, owned by the listener from now on
     */
    void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload);

    /** The members, the leader or the primary status changed. */
    void onMembership(Membership membership);

    /**
     * The records this member still needed are no longer in the log (they were compacted into a snapshot, here or
     * on the leader): the caller must copy the data from a peer (full transfer). Deliveries go on after the snapshot
     * point named in the reason ({@link Group#firstAvailable()}).
     */
    void onFullTransferNeeded(String reason);

    /**
     * The history line of this member's copy of the log changed: a forced bootstrap's fork was applied, or a snapshot
     * with another line was loaded ({@link History}). Called before any record numbered after the fork is delivered,
     * so a listener that stores the line beside its data never holds data of a history it has not stored.
     */
    default void onHistory(History line) {
    }
}
