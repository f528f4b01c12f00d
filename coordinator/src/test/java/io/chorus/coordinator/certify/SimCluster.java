package io.chorus.coordinator.certify;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.coordinator.apply.ConflictRow;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.pending.PendingTracker;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Simulated nodes around one shared log, each processing the log in GSN order with the real {@link Certifier} and
 * {@link PendingTracker} and helper semantics (no FK check, unique enforced, a missing/existing row that is not the
 * node's own pending row is a failure). Deterministic: the caller drives every event.
 */
final class SimCluster {
    record Failure(String kind, String message) {
    }

    /** A watermark report in the log. */
    record WReport(NodeId node, Gsn w) {
    }

    /** A delivered GSN not yet applied: a remote winner with its restores, an own changeset or a report (null). */
    record Unit(long gsn, Verdict verdict, List<RestoreRow> restores) {
    }

    final class Node {
        final NodeId id;
        final SimDb db;
        Certifier certifier = new Certifier(new CertifierConfig(WINDOW));
        PendingTracker tracker;
        /** Committed locally, not yet seen by the capture (the tracker does not know them yet). */
        final List<ChangeSet> uncaptured = new ArrayList<>();
        final List<ChangeSet> outbox = new ArrayList<>();
        final List<Unit> queue = new ArrayList<>();
        final Map<Long, Verdict> verdicts = new HashMap<>();
        /** Last GSN delivered (certified, tracker told). */
        long w;
        /** Last GSN committed in the database (a local commit's deps). */
        long applied;
        String halted;

        Node(NodeId id) {
            this.id = id;
            this.db = init.copy();
            this.tracker = new PendingTracker(id);
        }
    }

    static final long WINDOW = 10_000;
    final SimDb init;
    final List<Node> nodes = new ArrayList<>();
    final List<Object> log = new ArrayList<>();
    final List<Failure> failures = new ArrayList<>();
    final List<String> trace = new ArrayList<>();
    final boolean tracing;
    private long txn;

    SimCluster(int n, SimDb init, boolean tracing) {
        this.init = init;
        this.tracing = tracing;
        Set<NodeId> ids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            Node nd = new Node(NodeId.of(name(i).toLowerCase()));
            nodes.add(nd);
            ids.add(nd.id);
        }
        nodes.forEach(nd -> nd.certifier.onMembers(ids));
        members = Set.copyOf(ids);
    }

    private final Set<NodeId> members;
    private final SimApply apply = new SimApply(this);
    /** Rows restored twice in one batch by late restores taken at different times (the applier must dedupe). */
    int lateRepeats;
    /** Rows rolled back by late restores. */
    int lateRows;

    /**
     * Node n's sidecar restarts: its certifier is rebuilt from the log and the recorded decisions, its tracker from
     * the re-decoded pending changesets (appended but undelivered, then the outbox) and the remote winners above them.
     */
    boolean restart(int n) {
        Node nd = nodes.get(n);
        if (nd.halted != null) {
            return false;
        }
        for (long g = nd.applied + 1; g <= nd.w; g++) {
            nd.verdicts.remove(g);
        }
        nd.w = nd.applied;
        nd.queue.clear();
        nd.outbox.addAll(nd.uncaptured);
        nd.uncaptured.clear();
        List<ChangeSet> pend = new ArrayList<>();
        for (int g = (int) nd.w + 1; g <= log.size(); g++) {
            if (log.get(g - 1) instanceof ChangeSet cs && cs.origin().equals(nd.id)) {
                pend.add(cs);
            }
        }
        pend.addAll(nd.outbox);
        List<Verdict> delivered = new ArrayList<>();
        Certifier c = Certifier.resumingAt(new CertifierConfig(WINDOW), Gsn.NONE);
        c.onMembers(members);
        for (long g = 1; g <= nd.w; g++) {
            Object e = log.get((int) g - 1);
            if (e instanceof WReport r) {
                c.onWatermark(r.node(), r.w());
            } else {
                Verdict v = nd.verdicts.get(g);
                c.replayDecided(Gsn.of(g), v.changeSet(), v.conflictRows());
                delivered.add(v);
            }
        }
        nd.certifier = c;
        nd.tracker = PendingTracker.rebuild(nd.id, Gsn.of(1), delivered, pend);
        say(name(n) + ": sidecar restarts at W=" + nd.w + " with " + pend.size() + " pending changesets");
        return true;
    }

    static String name(int n) {
        return String.valueOf("ABCDEFGH".charAt(n));
    }

    void say(String s) {
        if (tracing) {
            trace.add(s);
        }
    }

    void fail(Node nd, String kind, String msg) {
        failures.add(new Failure(kind, msg));
        say("  !! " + kind + ": " + msg);
        if (nd != null && nd.halted == null && !kind.startsWith("transient")) {
            nd.halted = msg;
        }
    }

    /** A local transaction on node n; statements PostgreSQL would refuse are skipped. False if nothing committed. */
    boolean local(int n, List<SimDb.Stmt> stmts) {
        return local(n, stmts, false);
    }

    /**
     * A local transaction on node n, with deps = the last GSN committed there; {@code late}: the capture reports it
     * only later ({@link #capture}), else at once (after every earlier uncaptured commit).
     */
    boolean local(int n, List<SimDb.Stmt> stmts, boolean late) {
        Node nd = nodes.get(n);
        if (nd.halted != null) {
            return false;
        }
        List<Change> changes = new ArrayList<>();
        for (SimDb.Stmt s : stmts) {
            Change c = nd.db.local(s);
            if (c != null) {
                changes.add(c);
            }
        }
        if (changes.isEmpty()) {
            return false;
        }
        txn++;
        ChangeSet cs = new ChangeSet(new Gtid(nd.id, Lsn.of(txn)), txn, Instant.EPOCH, Gsn.of(nd.applied), changes);
        nd.uncaptured.add(cs);
        say(name(n) + ": local T" + txn + " commits, deps=" + nd.applied + (late ? " (captured later)" : ""));
        changes.forEach(c -> say("      " + show(c)));
        if (!late) {
            catchUp(nd);
        }
        return true;
    }

    /** Node n's capture reports its oldest uncaptured local commit to the tracker. */
    boolean capture(int n) {
        Node nd = nodes.get(n);
        if (nd.halted != null || nd.uncaptured.isEmpty()) {
            return false;
        }
        ChangeSet cs = nd.uncaptured.remove(0);
        say(name(n) + ": capture reports T" + cs.xid());
        try {
            nd.tracker.addLocal(cs);
        } catch (RuntimeException e) {
            fail(nd, "tracker", name(n) + " capturing T" + cs.xid() + ": " + e.getMessage());
            return true;
        }
        nd.outbox.add(cs);
        return true;
    }

    void catchUp(Node nd) {
        int n = nodes.indexOf(nd);
        boolean more = true;
        while (more) {
            more = nd.halted == null && capture(n);
        }
    }

    /** Appends the head of node n's outbox to the log. */
    boolean append(int n) {
        Node nd = nodes.get(n);
        if (nd.outbox.isEmpty()) {
            return false;
        }
        ChangeSet cs = nd.outbox.remove(0);
        log.add(cs);
        say(name(n) + ": T" + cs.xid() + " appended as GSN " + log.size());
        return true;
    }

    /**
     * Node n appends a watermark report: its W, but never above the deps of a changeset it has not yet appended
     * (those must stay certifiable).
     */
    boolean report(int n) {
        Node nd = nodes.get(n);
        long w = Math.min(nd.applied, nd.tracker.minPendingDeps().value());
        for (ChangeSet cs : nd.uncaptured) {
            w = Math.min(w, cs.deps().value());
        }
        log.add(new WReport(nd.id, Gsn.of(w)));
        say(name(n) + ": reports W=" + w + " as GSN " + log.size());
        return true;
    }

    /** Node n delivers its next GSN and applies everything delivered. False when it has nothing to do or is halted. */
    boolean process(int n) {
        if (!deliver(n)) {
            return false;
        }
        applyBatch(n, Integer.MAX_VALUE);
        return true;
    }

    /** Node n delivers its next GSN: certifies it and tells the tracker; the apply is queued. */
    boolean deliver(int n) {
        Node nd = nodes.get(n);
        if (nd.halted != null || nd.w >= log.size()) {
            return false;
        }
        long g = nd.w + 1;
        Object entry = log.get((int) g - 1);
        if (entry instanceof WReport r) {
            nd.certifier.onWatermark(r.node(), r.w());
            nd.w = g;
            nd.queue.add(new Unit(g, null, List.of()));
            return true;
        }
        ChangeSet cs = (ChangeSet) entry;
        Verdict v = nd.certifier.certify(Gsn.of(g), cs);
        nd.verdicts.put(g, v);
        say(name(n) + ": GSN " + g + " = T" + cs.xid() + " from " + cs.origin() + " (deps=" + cs.deps() + ")");
        describe(v);
        try {
            if (cs.origin().equals(nd.id)) {
                nd.tracker.onOwnDelivered(v);
                nd.queue.add(new Unit(g, v, List.of()));
            } else {
                nd.queue.add(new Unit(g, v, nd.tracker.onRemoteWinner(v)));
            }
        } catch (RuntimeException e) {
            fail(nd, "tracker", name(n) + " GSN " + g + ": " + e.getMessage());
            return true;
        }
        nd.w = g;
        return true;
    }

    /** Node n applies up to {@code max} delivered GSNs in one helper transaction ({@link SimApply#batch}). */
    boolean applyBatch(int n, int max) {
        return apply.batch(nodes.get(n), max, null);
    }

    /**
     * Node n applies its delivered GSNs in one helper transaction whose first run is lost (a terminated backend, a
     * yield): the rollback releases its row locks, and a local transaction that waited for them ({@code slipIn})
     * commits on the rows as they were before the run, with deps below the batch; then the batch re-runs.
     */
    boolean applyBatchLosingFirstRun(int n, List<SimDb.Stmt> slipIn) {
        return apply.batch(nodes.get(n), Integer.MAX_VALUE, new SimApply.Interleaving(true, slipIn));
    }

    /**
     * Node n applies its delivered GSNs in one helper transaction while a local transaction on rows the run does not
     * write commits (deps below the batch, captured before the run's capture check).
     */
    boolean applyBatchWithLocalDuring(int n, List<SimDb.Stmt> during) {
        return apply.batch(nodes.get(n), Integer.MAX_VALUE, new SimApply.Interleaving(false, during));
    }

    private void describe(Verdict v) {
        for (Conflict c : v.conflicts()) {
            say("      LOSES change " + c.changeIndex() + ": " + c.kind() + " " + c.key() + " vs GSN " + c.winnerGsn()
                    + " (cause " + c.cause() + ")");
        }
    }

    static String show(Change c) {
        if (c instanceof RowChange rc) {
            String t = rc.relation().name().table();
            String what = switch (rc.op()) {
                case INSERT -> "INSERT " + SimSchema.show(t, rc.newTuple());
                case UPDATE -> "UPDATE " + SimSchema.show(t, rc.oldTuple()) + " -> " + SimSchema.show(t, rc.newTuple());
                case DELETE -> "DELETE " + SimSchema.show(t, rc.oldTuple());
            };
            return what + "  keys" + rc.keys();
        }
        return c.toString();
    }

    /** Appends every outbox and lets every node process the whole log. */
    void drain() {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int n = 0; n < nodes.size(); n++) {
                while (capture(n) || append(n)) {
                    progress = true;
                }
            }
            for (int n = 0; n < nodes.size(); n++) {
                while (process(n)) {
                    progress = true;
                }
            }
        }
    }

    /** The model's final checks: stuck, divergence, decisions, orphans, duplicates, the oracle. */
    void finalChecks() {
        for (Node nd : nodes) {
            if (nd.halted == null && (nd.w < log.size() || !nd.queue.isEmpty())) {
                fail(nd, "stuck", nd.id + " cannot get past GSN " + nd.w + " of " + log.size());
            }
            if (nd.halted == null && nd.tracker.pendingCount() != 0) {
                fail(nd, "stuck", nd.id + " still has " + nd.tracker.pendingCount() + " pending changesets");
            }
        }
        if (failures.stream().anyMatch(f -> f.kind().equals("stuck") || f.kind().equals("apply-error")
                || f.kind().equals("tracker"))) {
            return;
        }
        Node a = nodes.get(0);
        for (Node nd : nodes.subList(1, nodes.size())) {
            if (!nd.db.equals(a.db)) {
                fail(null, "diverge", "A: " + a.db + "  vs  " + nd.id + ": " + nd.db);
            }
            if (!conflicts(nd).equals(conflicts(a))) {
                fail(null, "decisions", nd.id + " certified differently from A");
            }
        }
        for (Node nd : nodes) {
            nd.db.orphans().forEach(o -> fail(null, "orphan", nd.id + " ends with orphan " + o));
            nd.db.duplicates().forEach(d -> fail(null, "dup-unique", nd.id + " ends with duplicate " + d));
        }
        if (failures.stream().noneMatch(f -> f.kind().equals("diverge")) && !oracle().equals(a.db)) {
            fail(null, "oracle", "all nodes agree on " + a.db + " but replaying the log's winners gives " + oracle());
        }
    }

    Map<Long, List<ConflictRow>> conflicts(Node nd) {
        Map<Long, List<ConflictRow>> out = new HashMap<>();
        nd.verdicts.forEach((g, v) -> out.put(g, v.conflictRows()));
        return out;
    }

    /** The initial state plus every winning change of the log, in GSN order (node A's decisions). */
    SimDb oracle() {
        SimDb db = init.copy();
        for (Map.Entry<Long, Verdict> e : new java.util.TreeMap<>(nodes.get(0).verdicts).entrySet()) {
            for (Change c : e.getValue().winningChanges()) {
                if (c instanceof RowChange rc) {
                    String t = rc.relation().name().table();
                    String pk = rc.identityTuple().text(0);
                    db.put(t, pk, rc.newTuple() == null ? null : SimDb.merged(rc.newTuple(), db.get(t, pk)));
                } else if (c instanceof TruncateChange tc) {
                    db.truncate(tc.relations());
                }
            }
        }
        return db;
    }

    void sayFinal() {
        nodes.forEach(nd -> say("final " + nd.id + ": " + nd.db));
    }
}
