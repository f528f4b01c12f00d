package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.certify.CertRules;
import io.chorus.coordinator.certify.Dependency;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Late doom: a local changeset that reaches the tracker after remote winners above its deps were processed (they had
 * not committed here when it committed) is certified against them, and against this origin's earlier losses (R2),
 * exactly as {@code onRemoteWinner} would have done had it been known then. Its doomed rows are rolled back in the
 * transaction of the lowest winner that dooms it, to the state the group had just before that winner. Not
 * thread-safe.
 */
final class LateCommit {
    private static final Logger LOG = LogManager.getLogger(LateCommit.class);

    /** Test switch: when false, late commits are never doomed (the simulation must then find divergence). */
    static volatile boolean enabled = true;

    private final PendingSet ps;
    private final List<KeptWinner> winners;
    private final LateLedger ledger;

    private LateCommit(PendingSet ps, List<KeptWinner> winners, LateLedger ledger) {
        this.ps = ps;
        this.winners = winners;
        this.ledger = ledger;
    }

    /**
     * Certifies {@code ps}, the newest pending changeset, against the kept winners above its deps; dooms its losing
     * changes, records their rollbacks in the ledger and brings the bases of the rows it was first to touch
     * ({@code created}) up to date with those winners.
     *
     * @return the rows whose doomed state changed
     * @throws IllegalStateException when a winner that dooms it has already committed here (the capture was not
     *                               awaited before that commit)
     */
    static Set<RowId> doom(PendingSet ps, Iterable<PendingSet> pending, Map<RowId, RowState> rows,
                           Set<RowId> created, LateLedger ledger) {
        List<KeptWinner> winners = ledger.after(ps.cs.deps());
        if (!enabled || winners.isEmpty()) {
            return Set.of();
        }
        LateCommit late = new LateCommit(ps, winners, ledger);
        Gsn first = late.markLosers(pending);
        Set<RowId> touched = new LinkedHashSet<>();
        if (first != null) {
            touched = late.rollBack(first, rows);
        }
        for (KeptWinner w : winners) {
            Bases.advance(w.verdict, rows, created, w.undo);
        }
        return touched;
    }

    /** Dooms the losing changes of the set; returns the lowest cause among them, or null. */
    private Gsn markLosers(Iterable<PendingSet> pending) {
        List<PendingChange> lostSoFar = new ArrayList<>(ledger.deliveredLosses());
        for (PendingSet earlier : pending) {
            if (earlier != ps) {
                for (PendingChange pc : earlier.changes) {
                    if (pc.doomCause != null) {
                        lostSoFar.add(pc);
                    }
                }
            }
        }
        Gsn first = null;
        for (PendingChange pc : ps.changes) {
            Gsn cause = cause(pc, lostSoFar);
            if (cause != null) {
                PendingTracker.markDoomed(pc, cause, cause);
                lostSoFar.add(pc);
                first = first == null ? cause : Gsn.min(first, cause);
            }
        }
        return first;
    }

    /** The certifier's cause for one change: the lower of the first clashing winner and the R2 dependency. */
    private Gsn cause(PendingChange pc, List<PendingChange> lostSoFar) {
        Gsn cause = null;
        for (KeptWinner w : winners) {
            if (w.applied.clashesAny(pc.keys)) {
                cause = w.gsn();
                break;
            }
        }
        Dependency<PendingChange> d = CertRules.sameOriginCause(pc.keys, lostSoFar, ps.cs.deps());
        if (d != null && (cause == null || d.lost().doomCause.isBefore(cause))) {
            cause = d.lost().doomCause;
        }
        return cause;
    }

    /** Records the rollback of the set's doomed rows under {@code first}, against the bases from before it. */
    private Set<RowId> rollBack(Gsn first, Map<RowId, RowState> rows) {
        KeptWinner at = ledger.at(first);
        if (at == null) {
            throw new IllegalStateException("local changeset " + ps.cs.gtid() + " (deps " + ps.cs.deps() + ") loses"
                    + " to GSN " + first + ", which is no longer an uncommitted winner here (committed through GSN "
                    + ledger.committed() + "): it was captured after that GSN committed, so its rows were never "
                    + "rolled back; the applier must await the capture before committing; rejoin by full transfer");
        }
        Set<RowId> touched = new LinkedHashSet<>();
        for (PendingChange pc : ps.changes) {
            if (pc.doomCause != null) {
                pc.versions.forEach(v -> touched.add(v.row));
            }
        }
        Map<RowState, RowImage> current = new IdentityHashMap<>();
        for (RowId row : touched) {
            RowState st = rows.get(row);
            current.put(st, st.base);
            st.base = ledger.baseBefore(st, first);
        }
        List<RestoreRow> restores;
        try {
            restores = RestorePlan.restores(touched, rows, at.verdict, at.undo);
        } finally {
            current.forEach((st, base) -> st.base = base);
        }
        ledger.record(first, restores);
        LOG.debug("local changeset {} (deps {}) captured after GSN {} that dooms it: {} rows rolled back with it",
                ps.cs.gtid(), ps.cs.deps(), first, restores.size());
        return touched;
    }
}
