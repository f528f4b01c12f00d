package io.chorus.coordinator.pending;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.TruncateChange;
import io.chorus.coordinator.certify.CauseIndex;
import io.chorus.coordinator.certify.CertRules;
import io.chorus.coordinator.certify.KeyLookup;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Dooms the pending changesets that lose to one remote winner: a clash with its applied keys, or (R2) a dependency
 * on a change doomed by this same winner. A dependency on a change doomed earlier was settled when that change was
 * doomed (or when the later changeset was added), so only this winner's dooms are candidates.
 *
 * <p>Only the changesets that can lose are visited, in commit order: those with a live change whose key clashes with
 * an applied key, then those with a live change that depends on a change just doomed (R2 needs a key that meets,
 * so the {@link PendingIndex} finds them). A changeset is decided with the dooms of the earlier ones in hand, as in a
 * scan of every pending changeset, so the dooms are the same; the work is the candidates, not the backlog.
 */
final class WinnerDoom {
    private static final Logger LOG = LogManager.getLogger(WinnerDoom.class);

    private final Gsn g;
    private final KeyLookup applied;
    private final PendingIndex index;
    private final Visits visits;
    private final TreeSet<PendingSet> candidates = new TreeSet<>(Comparator.comparingLong(ps -> ps.seq));
    private final Set<Object> seen = PendingIndex.seenSet();
    private final CauseIndex lostNow = new CauseIndex();

    private WinnerDoom(Gsn g, KeyLookup applied, PendingIndex index, Visits visits) {
        this.g = g;
        this.applied = applied;
        this.index = index;
        this.visits = visits;
    }

    /** Dooms the losers to the winner at {@code g}, recording them in {@code undo}; returns the rows of its dooms. */
    static Set<RowId> doom(Gsn g, List<Key> appliedKeys, KeyLookup applied, PendingIndex index, WinnerUndo undo,
                           Visits visits) {
        WinnerDoom d = new WinnerDoom(g, applied, index, visits);
        for (Key k : appliedKeys) {
            index.liveMeeting(k, CertRules::clashes, d.seen, pc -> {
                visits.add(1);
                d.candidates.add(pc.owner);
            });
        }
        Set<RowId> touched = new LinkedHashSet<>();
        PendingSet ps;
        while ((ps = d.candidates.pollFirst()) != null) {
            visits.add(1);
            Gsn cause = ps.doomed() ? null : d.wholeCause(ps);
            if (cause != null) {
                d.doomWhole(ps, cause, undo, touched);
            }
        }
        return touched;
    }

    private void doomWhole(PendingSet ps, Gsn cause, WinnerUndo undo, Set<RowId> touched) {
        for (PendingChange pc : ps.changes) {
            if (pc.keys.isEmpty()) {
                continue;
            }
            markDoomed(pc, cause, g);
            undo.doomed.add(pc);
            lostNow.add(pc.keys, cause);
            for (Version ver : pc.versions) {
                touched.add(ver.row);
            }
        }
        for (PendingChange pc : ps.changes) {
            for (Key k : pc.keys) {
                index.liveMeeting(k, CertRules::dependsOn, seen, later -> {
                    visits.add(1);
                    if (later.owner.seq > ps.seq) {
                        candidates.add(later.owner);
                    }
                });
            }
        }
    }

    /**
     * The cause for which the winner dooms the whole pending changeset (the certifier's rule: the lowest cause among
     * its changes, a clash with the winner or an R2 dependency on this winner's dooms so far), or null when none of
     * its changes loses.
     */
    private Gsn wholeCause(PendingSet ps) {
        Gsn cause = null;
        for (PendingChange pc : ps.changes) {
            visits.add(1);
            Gsn c = applied.clashesAny(pc.keys) ? g : null;
            Gsn d = lostNow.isEmpty() ? null : lostNow.lowestDependencyAbove(pc.keys, ps.cs.deps());
            if (d != null && (c == null || d.isBefore(c))) {
                c = d;
            }
            if (c != null && (cause == null || c.isBefore(cause))) {
                cause = c;
            }
        }
        return cause;
    }

    static void markDoomed(PendingChange pc, Gsn cause, Gsn g) {
        if (pc.change instanceof TruncateChange tc) {
            throw new ChorusException("pending local TRUNCATE of " + tc.relations() + " in changeset "
                    + pc.owner.cs.gtid() + " loses to GSN " + g + ": the truncated rows cannot be restored on this "
                    + "node; stop applying, save the node's data if needed and rejoin it by full state transfer");
        }
        pc.doom(cause);
        LOG.trace("pending change {} of {} doomed at GSN {} (cause GSN {})", pc.index, pc.owner.cs.gtid(), g, cause);
    }
}
