package io.chorus.changeset;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One committed local transaction, decoded: its identity, its deps and its changes in commit order.
 *
 * @param gtid       origin node and commit LSN
 * @param xid        the origin's transaction id (informative)
 * @param commitTime the origin's commit timestamp
 * @param deps       the highest GSN the origin had committed in its database when this transaction committed
 *                   (exact, from WAL order; DESIGN §3)
 * @param changes    row changes, truncates and messages in the order the origin made them; copied, unless it is a
 *                   {@link DiskBacked} list (a transaction larger than the heap), which is kept as it is
 */
public record ChangeSet(Gtid gtid, long xid, Instant commitTime, Gsn deps, List<Change> changes) {
    public ChangeSet {
        Objects.requireNonNull(gtid, "gtid");
        Objects.requireNonNull(commitTime, "commitTime");
        Objects.requireNonNull(deps, "deps");
        changes = changes instanceof DiskBacked ? changes : List.copyOf(changes);
    }

    /**
     * An unmodifiable change list that streams from a file instead of the heap, for transactions larger than memory.
     * Iterate it (indexed access may read from the start); it is valid only as long as its owner keeps the file.
     */
    public interface DiskBacked extends List<Change> {
    }

    public NodeId origin() {
        return gtid.origin();
    }

    public ChangeSet withChanges(List<Change> newChanges) {
        return new ChangeSet(gtid, xid, commitTime, deps, newChanges);
    }

    public ChangeSet withDeps(Gsn newDeps) {
        return new ChangeSet(gtid, xid, commitTime, newDeps, changes);
    }

    public int rowCount() {
        int n = 0;
        for (Change c : changes) {
            if (c instanceof RowChange) {
                n++;
            }
        }
        return n;
    }
}
