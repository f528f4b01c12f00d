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
    private final List<KeptWinner> winners;
    private final LateLedger ledger;
    private final Visits visits;

    private LateCommit(PendingSet ps, List<KeptWinner> winners, LateLedger ledger, Visits visits) {
        this.ps = ps;
        this.winners = winners;
        this.ledger = ledger;
        this.visits = visits;
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
                           Set<RowId> created, LateLedger ledger, Visits visits) {
        List<KeptWinner> winners = ledger.after(ps.cs.deps());
        if (!enabled || winners.isEmpty()) {
            return Set.of();
        }
        LateCommit late = new LateCommit(ps, winners, ledger, visits);
        Set<RowId> touched = late.markLosers(pending) ? late.rollBack(rows) : Set.of();
        for (KeptWinner w : winners) {
            Bases.advance(w.verdict, rows, created, w.undo, visits);
        }
        return touched;
    }

    /** Dooms the losing changes of the set; returns whether any lost. */
    private boolean markLosers(Iterable<PendingSet> pending) {
        List<PendingChange> lostSoFar = new ArrayList<>(ledger.deliveredLosses());
        for (PendingSet earlier : pending) {
            visits.add(1 + earlier.changes.size());
            if (earlier != ps && earlier.doomed()) {
                for (PendingChange pc : earlier.changes) {
                    if (pc.doomCause() != null) {
                        lostSoFar.add(pc);
                    }
                }
            }
        }
        Gsn whole = null;
        for (PendingChange pc : ps.changes) {
            Gsn cause = cause(pc, lostSoFar);
            if (cause != null && (whole == null || cause.isBefore(whole))) {
                whole = cause;
            }
        }
        if (whole == null) {
            return false;
        }
        for (PendingChange pc : ps.changes) {
            if (!pc.keys.isEmpty()) {
                PendingTracker.markDoomed(pc, whole, whole); // a transaction loses as a whole (see Certifier)
            }
        }
        return true;
    }

    /** The certifier's cause for one change: the lower of the first clashing winner and the R2 dependency. */
    private Gsn cause(PendingChange pc, List<PendingChange> lostSoFar) {
        Gsn cause = null;
        visits.add(lostSoFar.size());
        for (KeptWinner w : winners) {
            visits.add(1);
            if (w.applied.clashesAny(pc.keys)) {
                cause = w.gsn();
                break;
            }
        }
        Dependency<PendingChange> d = CertRules.sameOriginCause(pc.keys, lostSoFar, ps.cs.deps());
        if (d != null && (cause == null || d.lost().doomCause().isBefore(cause))) {
            cause = d.lost().doomCause();
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
            st.base = ledger.baseBefore(st, g);
            visits.add(st.chain.size());
            for (Version v : st.chain) {
                if (v.doomed() && v.owner.doomCause().isAfter(g)) {
                    later.put(v.owner, v.owner.doomCause());
                }
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
