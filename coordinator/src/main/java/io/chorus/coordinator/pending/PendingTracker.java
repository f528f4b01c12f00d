package io.chorus.coordinator.pending;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.coordinator.apply.PendingRows;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.certify.CertRules;
import io.chorus.coordinator.certify.KeyLookup;
import io.chorus.coordinator.certify.Verdict;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Eager rollback at the loser's origin (DESIGN §3 "At the loser's origin", rule R3). Tracks this node's pending
 * changesets (committed locally, not yet delivered in total order), the group's version of every row they touch (the
 * base), and which of their changes are doomed. Before a remote winner applies, {@link #onRemoteWinner} certifies
 * the pending changes against the winner's applied keys with the certifier's own rules (R2 included) and returns the
 * rows to restore in the winner's helper transaction.
 *
 * <p>Local commits may reach it late (after a concurrent winner was processed): {@link #addLocal} then dooms them
 * against the winners not yet {@link #committed} and records their rollbacks for {@link #takeLateRestores}.
 *
 * <p>Not thread-safe: callers (delivery, capture, helpers) serialise every call under one lock, except
 * {@link #isPendingRow}, which may be called from any thread and never blocks. No method blocks or does I/O.
 */
public final class PendingTracker implements PendingRows {
    private static final Logger LOG = LogManager.getLogger(PendingTracker.class);

    private final NodeId self;
    private final Deque<PendingSet> pending = new ArrayDeque<>();
    private final Map<RowId, RowState> rows = new HashMap<>();
    private final Set<RowId> pendingRows = ConcurrentHashMap.newKeySet();
    private final Visits visits = new Visits();
    private final PendingIndex index = new PendingIndex();
    private final LateLedger ledger = new LateLedger(visits);
    private long seq;
    private WinnerUndo lastWinner;

    public PendingTracker(NodeId self) {
        this.self = Objects.requireNonNull(self, "self");
    }

    /**
     * Rebuilds the tracker after a sidecar restart by replaying what happened since the oldest commit that can still
     * matter: from the lowest deps of the undelivered changesets, extended back over this node's own changesets
     * delivered above it (their losses feed R2) until stable. Local commits and deliveries are interleaved as they
     * happened: a changeset with deps d committed after GSN d was applied and before GSN d + 1. Restores are not
     * returned: they committed before the restart, atomically with the GSN they belong to. Each GSN is reported
     * {@link #committed} as soon as no local changeset still to add has deps below it (no late doom can happen here:
     * a local changeset comes before every winner above its deps), so the tracker holds only what it would hold live,
     * not every winner of the replay.
     *
     * @param logFrom     the first GSN {@code delivered} covers
     * @param delivered   verdicts of the changesets delivered here (own and remote), in GSN order, from
     *                    {@code logFrom} up to the watermark (re-certified from the log)
     * @param undelivered the re-decoded local changesets not yet delivered, in commit order (the slot is never
     *                    confirmed past them)
     * @throws IllegalArgumentException when {@code delivered} does not reach back far enough
     */
    public static PendingTracker rebuild(NodeId self, Gsn logFrom, List<Verdict> delivered,
                                         List<ChangeSet> undelivered) {
        return rebuild(self, logFrom, ReplayedVerdicts.of(self, delivered), undelivered);
    }

    /**
     * {@link #rebuild(NodeId, Gsn, List, List)} over verdicts read one at a time: the rebuild holds no changeset the
     * tracker does not hold (its own changesets are read ahead only up to the next one to add).
     *
     * @throws IllegalArgumentException when {@code delivered} does not reach back far enough
     */
    public static PendingTracker rebuild(NodeId self, Gsn logFrom, ReplayedVerdicts delivered,
                                         List<ChangeSet> undelivered) {
        long start = replayStart(delivered, undelivered);
        if (start + 1 < logFrom.value()) {
            throw new IllegalArgumentException("cannot rebuild the pending rows of " + self + ": the replay must start"
                    + " after GSN " + start + " but the delivered verdicts start at GSN " + logFrom
                    + "; pass the log from GSN " + (start + 1) + " (or rejoin by full transfer)");
        }
        PendingTracker t = new PendingTracker(self);
        try (ReplayedVerdicts.Cursor all = delivered.after(Gsn.of(start), false);
             ReplayedVerdicts.Cursor ownAhead = delivered.after(Gsn.of(start), true)) {
            OwnCommits own = new OwnCommits(delivered, start, ownAhead, undelivered);
            while (all.hasNext()) {
                Verdict v = all.next();
                while (own.peek() != null && own.peek().deps().isBefore(v.gsn())) {
                    t.addLocal(own.take());
                }
                if (v.changeSet().origin().equals(self)) {
                    t.onOwnDelivered(v);
                } else {
                    t.onRemoteWinner(v);
                }
                // the GSN committed before the restart; as the helpers would report it live, once no local commit
                // still to add is concurrent with it: the tracker lets go of the winners and rows kept for late commits
                t.committed(Gsn.min(v.gsn(), own.lowestDepsLeft()));
            }
            while (own.peek() != null) {
                t.addLocal(own.take());
            }
        }
        if (!delivered.isEmpty()) {
            t.committed(delivered.last());
        }
        LOG.info("pending-row tracker of {} rebuilt from GSN {}: {} pending changesets, {} rows", self, start + 1,
                t.pendingCount(), t.rows.size());
        return t;
    }

    private static long replayStart(ReplayedVerdicts delivered, List<ChangeSet> undelivered) {
        long start = Long.MAX_VALUE;
        for (ChangeSet cs : undelivered) {
            start = Math.min(start, cs.deps().value());
        }
        if (start == Long.MAX_VALUE) {
            return delivered.isEmpty() ? 0 : delivered.last().value();
        }
        for (int i = delivered.ownCount() - 1; i >= 0 && delivered.ownGsn(i).value() > start; i--) {
            start = Math.min(start, delivered.ownDeps(i).value());
        }
        return start;
    }

    /**
     * A captured local commit (committed here, not yet delivered). Call in commit order. When remote winners above
     * its deps were already processed (and have not committed here), it is certified against them at once (late
     * doom): its losing changes are doomed exactly as {@link #onRemoteWinner} would have doomed them, and their rows'
     * rollbacks are recorded for the lowest winner that dooms it, to be taken with {@link #takeLateRestores}.
     *
     * @throws IllegalStateException when a winner that dooms it has already been reported {@link #committed}
     * @throws ChorusException       when a doomed change is a TRUNCATE or a rollback needs a value never decoded
     */
    public void addLocal(ChangeSet cs) {
        requireOrigin(cs, true);
        lastWinner = null;
        PendingSet ps = new PendingSet(cs, ++seq, index);
        Set<RowId> created = new LinkedHashSet<>();
        List<Change> changes = cs.changes();
        for (int i = 0; i < changes.size(); i++) {
            Change c = changes.get(i);
            List<Key> keys = CertRules.keysOf(c);
            if (!(c instanceof RowChange) && (keys.isEmpty() || !CertRules.canLose(c))) {
                continue;
            }
            PendingChange pc = new PendingChange(ps, i, c, keys);
            if (c instanceof RowChange rc) {
                for (RowStep step : RowStep.of(rc)) {
                    track(pc, step, created);
                }
            }
            ps.changes.add(pc);
            index.added(pc);
        }
        pending.addLast(ps);
        LateCommit.doom(ps, index, rows, created, ledger, visits).forEach(this::refresh);
        LOG.trace("pending local changeset {} (deps {}): {} changes", cs.gtid(), cs.deps(), ps.changes.size());
    }

    private void track(PendingChange pc, RowStep step, Set<RowId> created) {
        RowState st = rows.get(step.row());
        if (st == null) {
            st = new RowState(step.before());
            rows.put(step.row(), st);
            created.add(step.row());
        }
        if (st.isEmpty()) {
            st.leftToWinner = false;
        }
        st.relation = step.relation();
        Version v = new Version(pc, step.row(), st, step.after(st.current()));
        st.add(v);
        pc.versions.add(v);
        refresh(step.row());
    }

    /** Keeps the thread-safe view of {@link #isPendingRow} in step with the row's state. */
    private void refresh(RowId row) {
        RowState st = rows.get(row);
        if (st != null && !st.isEmpty() && (!st.newestDoomed() || st.leftToWinner)) {
            pendingRows.add(row);
        } else {
            pendingRows.remove(row);
        }
    }

    /**
     * Call before applying a remote changeset's winning changes. Dooms the pending changes that lose to it (its
     * applied keys, then R2) and returns the rows to restore in the same helper transaction, before the winner's
     * changes: every row whose newest pending version became doomed goes back to its newest live pending version,
     * or to its base. Then takes the winner's applied row changes into the bases.
     *
     * @throws ChorusException when a restore needs a value this node never saw (a table that needs REPLICA IDENTITY
     *                         FULL lacks it) or a doomed change is a TRUNCATE (its rows cannot be brought back)
     */
    public List<RestoreRow> onRemoteWinner(Verdict v) {
        requireOrigin(v.changeSet(), false);
        List<Key> applied = v.appliedKeys();
        WinnerUndo undo = new WinnerUndo();
        lastWinner = undo;
        if (applied.isEmpty()) {
            return List.of();
        }
        KeyLookup lookup = new KeyLookup(applied);
        KeptWinner kept = new KeptWinner(v, applied, lookup, undo);
        ledger.keep(kept);
        Set<RowId> touched = pending.isEmpty() ? Set.of()
                : WinnerDoom.doom(v.gsn(), applied, lookup, index, undo, visits);
        undo.rows.addAll(touched);
        List<RestoreRow> restores = RestorePlan.restores(touched, rows, v, undo);
        touched.forEach(this::refresh);
        Bases.advance(v, rows, null, undo, visits);
        kept.restores(restores);
        if (!restores.isEmpty()) {
            LOG.debug("GSN {} from {}: {} local rows rolled back", v.gsn(), v.changeSet().origin(), restores.size());
        }
        return restores;
    }

    /**
     * Takes back the last {@link #onRemoteWinner} (its dooms and base updates), for a helper transaction that must be
     * recomputed because a local commit slipped in before it committed: undo, {@link #addLocal} the slipped commit,
     * then call {@link #onRemoteWinner} again. Only valid right after onRemoteWinner, before any other call.
     *
     * @throws IllegalStateException when there is nothing to take back
     */
    public void undoLastRemoteWinner() {
        if (lastWinner == null) {
            throw new IllegalStateException("nothing to undo on " + self + ": undoLastRemoteWinner is only valid "
                    + "directly after onRemoteWinner");
        }
        lastWinner.revert();
        lastWinner.rows.forEach(this::refresh);
        ledger.forget(lastWinner);
        lastWinner = null;
    }

    /**
     * This node's own changeset was delivered and certified. Checks that the changes doomed here are exactly the
     * certifier's losers, takes the winning changes into the bases and forgets the changeset.
     *
     * @throws IllegalStateException when the changeset is not the oldest pending one, or the doomed set differs from
     *                               the certifier's losers (a bug: the node must stop)
     * @throws ChorusException       when the verdict is uncertifiable: the rows exist only here; save them and rejoin
     */
    public void onOwnDelivered(Verdict v) {
        requireOrigin(v.changeSet(), true);
        lastWinner = null;
        PendingSet ps = pending.peekFirst();
        if (ps == null || !ps.cs.gtid().equals(v.changeSet().gtid())) {
            throw new IllegalStateException("own changeset " + v.changeSet().gtid() + " delivered at GSN " + v.gsn()
                    + " but the oldest pending changeset is " + (ps == null ? "none" : ps.cs.gtid())
                    + ": local changesets must be delivered in commit order, each once");
        }
        if (v.uncertifiable()) {
            throw new ChorusException("own changeset " + ps.cs.gtid() + " at GSN " + v.gsn() + " is uncertifiable "
                    + "(deps " + ps.cs.deps() + " is below the certification low mark): its rows exist only on "
                    + self + "; save them as SQL for the operator and rejoin this node by full state transfer");
        }
        Set<Integer> doomed = new TreeSet<>();
        for (PendingChange pc : ps.changes) {
            if (pc.doomCause() != null) {
                doomed.add(pc.index);
            }
        }
        if (!doomed.equals(v.lostIndexes())) {
            throw new IllegalStateException("own changeset " + ps.cs.gtid() + " at GSN " + v.gsn() + ": rolled back "
                    + "changes " + doomed + " locally but the certifier says changes " + v.lostIndexes()
                    + " lost; this node's data no longer matches the group: stop applying and rejoin by full transfer");
        }
        pending.pollFirst();
        for (PendingChange pc : ps.changes) {
            index.delivered(pc);
            for (Version ver : pc.versions) {
                RowState st = ver.state;
                if (pc.doomCause() == null) {
                    st.base = ver.after;
                }
                st.remove(ver);
                if (st.isEmpty() && !ledger.holdsWinners()) {
                    rows.remove(ver.row);
                } else if (st.isEmpty()) {
                    ledger.retire(ver.row, st, v.gsn());
                }
                refresh(ver.row);
            }
        }
    }

    /**
     * The rollbacks recorded by late doom ({@link #addLocal}) for winners with a GSN in {@code [first, last]}, to write
     * as one group first in the transaction that applies those GSNs: at most one per row (the highest GSN's), with the
     * own rollbacks of those winners that they must be written with. Returns only rows not already returned for a
     * transaction starting at {@code first} with the same target, so it is empty when nothing new was recorded; a row
     * returned again carries a newer target that replaces the earlier one (the caller keeps one entry per row).
     */
    public List<RestoreRow> takeLateRestores(Gsn first, Gsn last) {
        return ledger.take(first, last);
    }

    /**
     * Every GSN up to {@code upTo} is committed in this database: winners up to it can no longer doom a local commit
     * (one that commits from now on has deps at or above it), so they, the own losses they caused and the rows kept
     * for them are forgotten.
     *
     * @throws IllegalStateException when a late rollback recorded for a GSN up to {@code upTo} was never taken: it was
     *                               not written, the node no longer matches the group (a bug; stop and rejoin)
     */
    public void committed(Gsn upTo) {
        ledger.committed(upTo, rows);
        index.committed(upTo, visits);
        lastWinner = null;
    }

    /**
     * The lowest deps among the local changesets added and not yet delivered, or {@code Gsn.of(Long.MAX_VALUE)} when
     * there are none. The watermark this node reports must not exceed it, so its own in-flight changesets never fall
     * below the certifier's purge horizon.
     */
    public Gsn minPendingDeps() {
        Gsn min = Gsn.of(Long.MAX_VALUE);
        for (PendingSet ps : pending) {
            min = Gsn.min(min, ps.cs.deps());
        }
        return min;
    }

    /**
     * Whether the row may legitimately differ here from the group's version, so a helper may find it missing or
     * present: its newest pending version is live, or its rollback was left to a winner that deletes it. A row rolled
     * back to its base is not pending: it must match the group exactly. Thread-safe, non-blocking.
     */
    @Override
    public boolean isPendingRow(RelationName rel, List<String> identity) {
        return pendingRows.contains(new RowId(rel, identity));
    }

    /** The elements the tracker's scans visited so far (for tests that bound the work). */
    long visits() {
        return visits.count();
    }

    /** Number of pending changesets. */
    public int pendingCount() {
        return pending.size();
    }

    /** Number of rows with pending versions. */
    public int pendingRowCount() {
        int n = 0;
        for (RowState st : rows.values()) {
            n += st.isEmpty() ? 0 : 1;
        }
        return n;
    }

    private void requireOrigin(ChangeSet cs, boolean own) {
        if (cs.origin().equals(self) != own) {
            throw new IllegalArgumentException("changeset " + cs.gtid() + " is " + (own ? "not" : "")
                    + " from this node (" + self + ")" + (own ? "" : " but was passed as a remote winner")
                    + ": pass own changesets to addLocal/onOwnDelivered and remote ones to onRemoteWinner");
        }
    }
}
