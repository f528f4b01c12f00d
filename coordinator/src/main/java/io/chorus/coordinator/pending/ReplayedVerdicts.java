package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.coordinator.certify.Verdict;
import java.util.Iterator;
import java.util.List;

/**
 * The verdicts of the changesets replayed at a restart, in GSN order, as {@link PendingTracker#rebuild} reads them:
 * the GSNs and deps of this node's own changesets at once (to find where the rebuild starts), the verdicts themselves
 * only through cursors that yield one at a time, so an implementation may keep the changesets on disk and the rebuild
 * never holds more of them than the tracker does.
 */
public interface ReplayedVerdicts {

    /** A forward pass over verdicts; the changeset of each is decoded when it is yielded. */
    interface Cursor extends Iterator<Verdict>, AutoCloseable {
        @Override
        void close();
    }

    /** Whether no verdict was replayed. */
    boolean isEmpty();

    /** The GSN of the last verdict; only when not {@link #isEmpty}. */
    Gsn last();

    /** The number of verdicts of this node's own changesets. */
    int ownCount();

    /** The GSN of this node's {@code i}-th own changeset (0-based, in GSN order). */
    Gsn ownGsn(int i);

    /** The deps of this node's {@code i}-th own changeset. */
    Gsn ownDeps(int i);

    /**
     * The verdicts with a GSN above {@code after}, in GSN order; only those of this node's own changesets when
     * {@code ownOnly}. Cursors are independent: the rebuild reads its own changesets ahead of the others.
     */
    Cursor after(Gsn after, boolean ownOnly);

    /** Verdicts held in memory (the simulation's and the tests' rebuilds). */
    static ReplayedVerdicts of(NodeId self, List<Verdict> verdicts) {
        return new VerdictList(self, verdicts);
    }
}
