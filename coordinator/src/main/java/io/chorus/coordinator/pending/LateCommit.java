package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.certify.CauseIndex;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Late doom: a local changeset that reaches the tracker after remote winners above its deps were processed (they had
 * not committed here when it committed) is certified against them, and against this origin's earlier losses (R2),
 * exactly as {@code onRemoteWinner} would have done had it been known then. Each doomed row is rolled back for
 * each winner that dooms a change on it, as that winner would have rolled it back. Not thread-safe.
 */
final class LateCommit {
    private static final Logger LOG = LogManager.getLogger(LateCommit.class);

    /** Test switch: when false, late commits are never doomed (the simulation must then find divergence). */
    static volatile boolean enabled = true;

    private final PendingSet ps;
    private final LateLedger ledger;
    private final Visits visits;

    private LateCommit(PendingSet ps, LateLedger ledger, Visits visits) {
        this.ps = ps;
        this.ledger = ledger;
        this.visits = visits;
    }

    /**
     * Certifies {@code ps}, the newest pending changeset, against the kept winners above its deps; dooms its losing
     * changes, records their rollbacks in the ledger and brings the bases of the rows it was first to touch
     * ({@code created}) up to date with those winners. It asks the index and the ledger by key and by row, so the
     * work is its own changes, the winners that write its new rows and the versions it rolls back, not the backlog.
     *
     * @return the rows whose doomed state changed
     * @throws IllegalStateException when a winner that dooms it has already committed here (the capture was not
     *                               awaited before that commit)
     */
    static Set<RowId> doom(PendingSet ps, PendingIndex index, Map<RowId, RowState> rows, Set<RowId> created,
                           LateLedger ledger, Visits visits) {
        if (!enabled || !ledger.anyAfter(ps.cs.deps())) {
            return Set.of();
        }
        LateCommit late = new LateCommit(ps, ledger, visits);
        Set<RowId> touched = late.markLosers(index) ? late.rollBack(rows) : Set.of();
        // only the winners that write a created row change its base
        for (KeptWinner w : created.isEmpty() ? List.<KeptWinner>of() : ledger.writingAfter(created, ps.cs.deps())) {
            Bases.advance(w.verdict, rows, created, w.undo, visits);
        }
        return touched;
    }

    /**
     * Dooms the losing changes of the set; returns whether any lost. The earlier losses of this origin it may depend
     * on (R2) are the doomed pending changes and the delivered losses whose cause has not committed: the index's.
     */
    private boolean markLosers(PendingIndex index) {
        Gsn whole = null;
        for (PendingChange pc : ps.changes) {
            visits.add(1);
            Gsn cause = cause(pc, index.lost);
            if (cause != null && (whole == null || cause.isBefore(whole))) {
                whole = cause;
            }
        }
        if (whole == null) {
            return false;
        }
        for (PendingChange pc : ps.changes) {
            if (!pc.keys.isEmpty()) {
                WinnerDoom.markDoomed(pc, whole, whole); // a transaction loses as a whole (see Certifier)
            }
        }
        return true;
    }

    /** The certifier's cause for one change: the lower of the first clashing winner and the R2 dependency. */
    private Gsn cause(PendingChange pc, CauseIndex lost) {
        Gsn cause = ledger.lowestClashAbove(pc.keys, ps.cs.deps());
        Gsn d = lost.lowestDependencyAbove(pc.keys, ps.cs.deps());
        if (d != null && (cause == null || d.isBefore(cause))) {
            cause = d;
        }
        return cause;
    }

    /**
     * Records the rollback of each row of the set's doomed changes for every winner that dooms one of them: the
     * rollback that winner's transaction would have written had the set been known when it was processed (the dooms
     * caused by then, the bases from before it).
     */
    private Set<RowId> rollBack(Map<RowId, RowState> rows) {
        Set<RowId> touched = new LinkedHashSet<>();
        TreeMap<Gsn, Set<RowId>> byWinner = new TreeMap<>();
        for (PendingChange pc : ps.changes) {
            for (Version v : pc.doomCause() == null ? List.<Version>of() : pc.versions) {
                touched.add(v.row);
                byWinner.computeIfAbsent(pc.doomCause(), x -> new LinkedHashSet<>()).add(v.row);
            }
        }
        byWinner.forEach((g, group) -> rollBackAt(g, group, rows));
        return touched;
    }

    private void rollBackAt(Gsn g, Set<RowId> group, Map<RowId, RowState> rows) {
        KeptWinner winner = ledger.at(g);
        if (winner == null) {
            throw new IllegalStateException("local changeset " + ps.cs.gtid() + " (deps " + ps.cs.deps() + ") loses"
                    + " to GSN " + g + ", which is no longer an uncommitted winner here (committed through GSN "
                    + ledger.committed() + "): it was captured after that GSN committed, so its rows were never "
                    + "rolled back; the applier must await the capture before committing; rejoin by full transfer");
        }
        Map<RowState, RowImage> current = new IdentityHashMap<>();
        Map<PendingChange, Gsn> later = new IdentityHashMap<>();
        for (RowId row : group) {
            RowState st = rows.get(row);
            current.put(st, st.base);
            st.base = ledger.baseBefore(row, st, g);
            for (Version v : st.doomedAfter(g)) {
                visits.add(1);
                later.put(v.owner, v.owner.doomCause());
            }
        }
        later.keySet().forEach(pc -> pc.doom(null));
        try {
            List<RestoreRow> restores = RestorePlan.restores(group, rows, winner.verdict, winner.undo);
            ledger.record(winner, restores);
            LOG.debug("local changeset {} (deps {}) captured after GSN {} that dooms it: {} rows rolled back with it",
                    ps.cs.gtid(), ps.cs.deps(), g, restores.size());
        } finally {
            current.forEach((st, base) -> st.base = base);
            later.forEach((pc, cause) -> pc.doom(cause));
        }
    }
}
