package io.chorus.coordinator.certify;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.NodeId;
import io.chorus.coordinator.apply.ConflictRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Certification: "first in total order wins" (DESIGN §3). A pure function of the delivered sequence — changesets,
 * watermark reports and membership entries in log order — so every node takes the same decisions.
 *
 * <p>A change of changeset C (origin O, GSN g, deps d) loses when an earlier changeset of another origin with a GSN
 * in (d, g) applied a clashing key on the same item, or (R2) when it depends on an earlier lost change of O whose
 * cause is above d. A changeset is a transaction: when one change loses, every change of it loses, with the lowest
 * cause among them (a partly applied transfer would break the application's invariants on every node). Changes that apply put their keys into the index; the index keeps keys above the purge horizon
 * (min of the last watermark of every known member, never more than {@code window} below the head).
 *
 * <p>Not thread-safe: owned by the delivery thread. Never blocks, never does I/O.
 */
public final class Certifier {
    private static final Logger LOG = LogManager.getLogger(Certifier.class);

    private final CertifierConfig cfg;
    private final CertIndex index = new CertIndex();
    private final Map<NodeId, OriginLosses<OriginLoss>> lossesByOrigin = new HashMap<>();
    private final Map<NodeId, Gsn> watermarks = new HashMap<>();
    private final Set<NodeId> members = new HashSet<>();
    private Gsn head = Gsn.NONE;
    private Gsn lowMark = Gsn.NONE;

    public Certifier(CertifierConfig cfg) {
        this.cfg = Objects.requireNonNull(cfg, "cfg");
        LOG.info("certifier started: window={} GSNs", cfg.window());
    }

    /**
     * A certifier rebuilt after a restart: its index is empty and starts at {@code lowMark}; the caller then replays
     * the log from {@code lowMark + 1} up to its watermark with {@link #replayDecided} (decisions already recorded in
     * chorus.conflicts) and the watermark/membership entries, and continues with {@link #certify}. Choose
     * {@code lowMark <= W - window} (or 0) so every later decision sees the same index as on the other nodes.
     */
    public static Certifier resumingAt(CertifierConfig cfg, Gsn lowMark) {
        Certifier c = new Certifier(cfg);
        c.head = lowMark;
        c.lowMark = lowMark;
        return c;
    }

    /** A lost change of an origin, kept for R2 until no later changeset of its origin can depend on it. */
    private record OriginLoss(Gsn gsn, int index, List<Key> keys, Gsn cause, NodeId causeOrigin)
            implements LostChange {
    }

    /**
     * Certifies the changeset delivered at {@code gsn}. Call for every delivered changeset, in increasing GSN order
     * (GSNs of other log entries may be skipped).
     *
     * @throws IllegalArgumentException when {@code gsn} does not follow the previous one or deps is not below it
     */
    public Verdict certify(Gsn gsn, ChangeSet cs) {
        advanceHead(gsn, cs);
        if (cs.deps().isBefore(lowMark)) {
            return uncertifiable(gsn, cs);
        }
        List<Change> changes = cs.changes();
        List<List<Key>> keys = new ArrayList<>(changes.size());
        Decision[] decisions = new Decision[changes.size()];
        List<OriginLoss> lostHere = new ArrayList<>();
        Decision first = null;
        for (int i = 0; i < changes.size(); i++) {
            keys.add(CertRules.keysOf(changes.get(i)));
            Decision d = decide(gsn, cs, i, keys.get(i), lostHere);
            decisions[i] = d;
            if (d != null) {
                lostHere.add(new OriginLoss(gsn, i, keys.get(i), d.conflict().cause(), d.causeOrigin()));
                if (first == null || d.conflict().cause().isBefore(first.conflict().cause())) {
                    first = d;
                }
            }
        }
        if (first == null) {
            for (int i = 0; i < changes.size(); i++) {
                indexApplied(gsn, cs.origin(), changes.get(i), keys.get(i));
            }
            recordLosses(cs.origin(), cs.deps(), List.of());
            purge();
            return verdict(gsn, cs, List.of(), false);
        }
        for (int i = 0; i < changes.size(); i++) {
            if (!CertRules.canLose(changes.get(i))) {
                indexApplied(gsn, cs.origin(), changes.get(i), keys.get(i)); // DDL applies even when its rows lose
            }
        }
        List<Conflict> conflicts = loseAll(cs, keys, decisions, first);
        List<OriginLoss> losses = new ArrayList<>();
        for (Conflict c : conflicts) {
            losses.add(new OriginLoss(gsn, c.changeIndex(), keys.get(c.changeIndex()), c.cause(), first.causeOrigin()));
        }
        recordLosses(cs.origin(), cs.deps(), losses);
        purge();
        return verdict(gsn, cs, conflicts, false);
    }

    /**
     * A changeset is one transaction: when one of its changes loses, all of them do (atomicity), each with the
     * changeset's lowest cause — the winner whose application rolls the whole transaction back at its origin. A
     * change that did not clash itself is recorded as {@link Conflict#TRANSACTION}, under its own first key. A DDL
     * statement is the exception: it cannot be rolled back at its origin, so it applies (see the package note).
     */
    private static List<Conflict> loseAll(ChangeSet cs, List<List<Key>> keys, Decision[] decisions, Decision first) {
        Conflict root = first.conflict();
        List<Conflict> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i).isEmpty() || !CertRules.canLose(cs.changes().get(i))) {
                continue;
            }
            Conflict own = decisions[i] == null ? null : decisions[i].conflict();
            // winnerOrigin is the cause's origin (as for an inherited loss): a replay rebuilds R2 from it
            out.add(own == null
                    ? new Conflict(i, Conflict.TRANSACTION, cs.origin(), root.winnerGsn(), first.causeOrigin(),
                            keys.get(i).get(0), root.cause())
                    : new Conflict(i, own.kind(), cs.origin(), own.winnerGsn(), first.causeOrigin(), own.key(),
                            root.cause()));
        }
        return out;
    }

    private record Decision(Conflict conflict, NodeId causeOrigin) {
    }

    private Decision decide(Gsn gsn, ChangeSet cs, int i, List<Key> keys, List<OriginLoss> lostHere) {
        if (keys.isEmpty() || !CertRules.canLose(cs.changes().get(i))) {
            return null;
        }
        CertIndex.Hit hit = index.earliestClash(keys, cs.origin(), cs.deps());
        OriginLosses<OriginLoss> earlier = lossesByOrigin.get(cs.origin());
        Dependency<OriginLoss> dep = CertRules.sameOriginCause(keys, lostHere, cs.deps(),
                earlier == null || keys.isEmpty() ? null : earlier.cause(keys, cs.deps()));
        if (hit == null && dep == null) {
            return null;
        }
        String loserOp = CertRules.opName(cs.changes().get(i));
        Decision d;
        if (hit != null) {
            Gsn winner = Gsn.of(hit.winner().gsn());
            boolean inherited = dep != null && dep.lost().cause().isBefore(winner);
            Gsn cause = inherited ? dep.lost().cause() : winner;
            d = new Decision(new Conflict(i, hit.winner().op() + "_" + loserOp, cs.origin(), winner,
                    hit.winner().origin(), hit.loserKey(), cause),
                    inherited ? dep.lost().causeOrigin() : hit.winner().origin());
        } else {
            d = new Decision(new Conflict(i, Conflict.DEPENDENCY, cs.origin(), dep.lost().cause(),
                    dep.lost().causeOrigin(), dep.key(), dep.lost().cause()), dep.lost().causeOrigin());
        }
        LOG.trace("GSN {} change {} ({}) of {} loses: {} (cause GSN {})", gsn, i, loserOp, cs.origin(),
                d.conflict().kind(), d.conflict().cause());
        return d;
    }

    private void indexApplied(Gsn gsn, NodeId origin, Change change, List<Key> keys) {
        String op = CertRules.opName(change);
        for (Key k : keys) {
            index.add(gsn.value(), origin, k, op);
        }
    }

    /**
     * Keeps the origin's losses for R2. deps of one origin's changesets never decrease (WAL order), so a loss whose
     * cause is at or below this changeset's deps can no longer be depended on.
     */
    private void recordLosses(NodeId origin, Gsn deps, List<OriginLoss> lostHere) {
        OriginLosses<OriginLoss> list = lossesByOrigin.computeIfAbsent(origin, o -> new OriginLosses<>());
        list.dropThrough(deps);
        lostHere.forEach(list::add);
        if (list.isEmpty()) {
            lossesByOrigin.remove(origin);
        }
    }

    private Verdict uncertifiable(Gsn gsn, ChangeSet cs) {
        List<Conflict> conflicts = new ArrayList<>();
        List<OriginLoss> lostHere = new ArrayList<>();
        List<Change> changes = cs.changes();
        for (int i = 0; i < changes.size(); i++) {
            List<Key> keys = CertRules.keysOf(changes.get(i));
            if (!keys.isEmpty() && CertRules.canLose(changes.get(i))) {
                conflicts.add(new Conflict(i, Conflict.UNCERTIFIABLE, cs.origin(), Gsn.NONE, null, keys.get(0), gsn));
                lostHere.add(new OriginLoss(gsn, i, keys, gsn, null));
            }
        }
        LOG.warn("GSN {} from {} is uncertifiable: deps {} is below the index low mark {}; its {} changes are "
                + "recorded as lost and its origin must save them and rejoin by full transfer", gsn, cs.origin(),
                cs.deps(), lowMark, conflicts.size());
        recordLosses(cs.origin(), cs.deps(), lostHere);
        purge();
        return verdict(gsn, cs, conflicts, true);
    }

    private static Verdict verdict(Gsn gsn, ChangeSet cs, List<Conflict> conflicts, boolean uncertifiable) {
        TreeSet<Integer> lost = new TreeSet<>();
        for (Conflict c : conflicts) {
            lost.add(c.changeIndex());
        }
        return new Verdict(gsn, cs, lost, conflicts, uncertifiable);
    }

    /**
     * Re-enters an already decided changeset after a restart (see {@link #resumingAt}): the recorded conflicts of
     * {@code gsn} say which changes lost and why; the rest go into the index.
     */
    public void replayDecided(Gsn gsn, ChangeSet cs, List<ConflictRow> recorded) {
        advanceHead(gsn, cs);
        Map<Integer, ConflictRow> byIndex = new HashMap<>();
        for (ConflictRow r : recorded) {
            byIndex.put(r.changeIndex(), r);
        }
        List<OriginLoss> lostHere = new ArrayList<>();
        List<Change> changes = cs.changes();
        for (int i = 0; i < changes.size(); i++) {
            List<Key> keys = CertRules.keysOf(changes.get(i));
            ConflictRow r = byIndex.get(i);
            if (r == null) {
                indexApplied(gsn, cs.origin(), changes.get(i), keys);
            } else {
                NodeId causeOrigin = r.winnerOrigin().isEmpty() ? null : NodeId.of(r.winnerOrigin());
                lostHere.add(new OriginLoss(gsn, i, keys, Gsn.of(r.causeGsn()), causeOrigin));
            }
        }
        recordLosses(cs.origin(), cs.deps(), lostHere);
        purge();
    }

    private void advanceHead(Gsn gsn, ChangeSet cs) {
        if (!gsn.isAfter(head)) {
            throw new IllegalArgumentException("changeset " + cs.gtid() + " delivered at GSN " + gsn
                    + " but the certifier is already at GSN " + head + ": deliver changesets in increasing GSN order");
        }
        if (!cs.deps().isBefore(gsn)) {
            throw new IllegalArgumentException("changeset " + cs.gtid() + " at GSN " + gsn + " has deps "
                    + cs.deps() + ", not below its own GSN: deps must come from the origin's WAL");
        }
        head = gsn;
    }

    /**
     * A watermark report of {@code node}, in log order. The purge horizon trusts it: the reporting node must send
     * min(W, deps of every local changeset it has committed but not yet seen delivered), or its own in-flight
     * changesets can fall below the low mark and become uncertifiable.
     */
    public void onWatermark(NodeId node, Gsn w) {
        watermarks.merge(node, w, Gsn::max);
        purge();
    }

    /** The members the group knows, present or absent, in log order. Members no longer known stop holding back. */
    public void onMembers(Set<NodeId> known) {
        members.clear();
        members.addAll(known);
        watermarks.keySet().retainAll(known);
        purge();
    }

    /** The index's low mark: keys at or below it are purged; a changeset with deps below it is uncertifiable. */
    public Gsn lowMark() {
        return lowMark;
    }

    /** The last certified GSN. */
    public Gsn head() {
        return head;
    }

    /** Number of keys in the index (a metric). */
    public int indexSize() {
        return index.size();
    }

    private void purge() {
        Gsn horizon = Gsn.of(Math.max(0, head.value() - cfg.window()));
        if (!members.isEmpty()) {
            Gsn minW = null;
            for (NodeId m : members) {
                Gsn w = Gsn.min(watermarks.getOrDefault(m, Gsn.NONE), head);
                minW = minW == null ? w : Gsn.min(minW, w);
            }
            horizon = Gsn.max(horizon, minW);
        }
        if (!horizon.isAfter(lowMark)) {
            return;
        }
        lowMark = horizon;
        int dropped = index.purgeThrough(lowMark.value());
        for (Iterator<OriginLosses<OriginLoss>> it = lossesByOrigin.values().iterator(); it.hasNext(); ) {
            OriginLosses<OriginLoss> l = it.next();
            l.dropThrough(lowMark);
            if (l.isEmpty()) {
                it.remove();
            }
        }
        LOG.debug("certification index purged through GSN {}: {} keys dropped, {} kept", lowMark, dropped,
                index.size());
    }
}
