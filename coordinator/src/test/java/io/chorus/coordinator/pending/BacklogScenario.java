package io.chorus.coordinator.pending;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Column;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.coordinator.certify.Certifier;
import io.chorus.coordinator.certify.CertifierConfig;
import io.chorus.coordinator.certify.Verdict;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;

/**
 * A seeded TPC-B-like history seen from one writing node of three, every node writing without bound: each
 * transaction updates an account, a teller and a branch of a small hot set and inserts a history row that REFERENCEs
 * the account. The node keeps {@code backlog} own changesets pending (committed, not yet delivered), processes the
 * other nodes' winners as they are delivered (certified by the real certifier), and commits GSNs {@code lag} behind
 * delivery, so every local commit is late against the uncommitted winners above its deps. Every own delivery checks
 * the tracker's doomed set against the certifier's losers.
 *
 * <p>{@link #run} first builds the backlog, then measures {@code steps} steady steps (one local commit, one own
 * delivery, {@code remotePerStep} remote winners, the commits that keep the lag) and returns the tracker's visits
 * over those steps only.
 */
final class BacklogScenario {
    static final NodeId SELF = NodeId.of("n1");
    private static final NodeId[] PEERS = {NodeId.of("n2"), NodeId.of("n3")};
    private static final RelationName ACC = RelationName.of("public", "accounts");
    private static final RelationName TEL = RelationName.of("public", "tellers");
    private static final RelationName BRA = RelationName.of("public", "branches");
    private static final RelationName HIS = RelationName.of("public", "history");
    private static final Relation ACC_REL = balanceTable(ACC);
    private static final Relation TEL_REL = balanceTable(TEL);
    private static final Relation BRA_REL = balanceTable(BRA);
    private static final Relation HIS_REL = new Relation(HIS, 'f', List.of(new Column("hid", true, 25, -1),
            new Column("aid", false, 23, -1), new Column("delta", false, 23, -1)));

    final int accounts;
    final int tellers;
    final int branches;
    final int lag;
    final int remotePerStep;

    private final Random rnd;
    private final Certifier certifier = new Certifier(CertifierConfig.defaults());
    private final PendingTracker tracker = new PendingTracker(SELF);
    private final Deque<ChangeSet> ownQueue = new ArrayDeque<>();
    private long gsn;
    private long committed;
    private long lsn;
    private long history;
    private long dooms;
    /** A digest of every rollback the tracker returned, in order: equal digests, equal behaviour. */
    private long digest;

    BacklogScenario(long seed, int accounts, int tellers, int branches, int lag, int remotePerStep) {
        this.rnd = new Random(seed);
        this.accounts = accounts;
        this.tellers = tellers;
        this.branches = branches;
        this.lag = lag;
        this.remotePerStep = remotePerStep;
    }

    /** A hot set of 400 accounts, 40 tellers and 8 branches, 300 GSNs between delivery and commit, two peers. */
    static BacklogScenario tpcb(long seed) {
        return new BacklogScenario(seed, 400, 40, 8, 300, 2);
    }

    /** A wider set (5,000 accounts, 500 tellers, 200 branches), 50 GSNs between delivery and commit: fewer losses. */
    static BacklogScenario wide(long seed) {
        return new BacklogScenario(seed, 5_000, 500, 200, 50, 2);
    }

    /** Work measured over one run. */
    record Work(int backlog, int steps, long visits, long ownLosses, long digest) {
        double perStep() {
            return (double) visits / steps;
        }

        @Override
        public String toString() {
            return String.format("backlog %,d: %,d visits over %,d steps (%,.1f per step), %,d own changesets lost, "
                    + "rollbacks digest %016x", backlog, visits, steps, perStep(), ownLosses, digest);
        }
    }

    /** Builds a backlog of {@code backlog} pending changesets, then measures {@code steps} steady steps. */
    Work run(int backlog, int steps) {
        while (ownQueue.size() < backlog) {
            localCommit();
            for (int i = 0; i < remotePerStep; i++) {
                deliverRemote();
            }
            commitToLag();
        }
        long before = tracker.visits();
        long doomsBefore = dooms;
        for (int s = 0; s < steps; s++) {
            localCommit();
            deliverOwn();
            for (int i = 0; i < remotePerStep; i++) {
                deliverRemote();
            }
            commitToLag();
        }
        if (tracker.pendingCount() != backlog) {
            throw new AssertionError("backlog drifted: " + tracker.pendingCount() + " pending, expected " + backlog);
        }
        return new Work(backlog, steps, tracker.visits() - before, dooms - doomsBefore, digest);
    }

    PendingTracker tracker() {
        return tracker;
    }

    private void localCommit() {
        ChangeSet cs = transaction(SELF, Gsn.of(committed));
        tracker.addLocal(cs);
        ownQueue.addLast(cs);
    }

    private void deliverOwn() {
        Verdict v = certifier.certify(Gsn.of(++gsn), ownQueue.pollFirst());
        tracker.onOwnDelivered(v); // throws when the doomed set differs from the certifier's losers
        dooms += v.lostIndexes().isEmpty() ? 0 : 1;
    }

    private void deliverRemote() {
        NodeId peer = PEERS[rnd.nextInt(PEERS.length)];
        long deps = Math.max(0, gsn - rnd.nextInt(2 * lag + 1));
        digest(tracker.onRemoteWinner(certifier.certify(Gsn.of(gsn + 1), transaction(peer, Gsn.of(deps)))));
        gsn++;
    }

    /** Commits GSNs one at a time (each helper takes its late rollbacks first) until {@code lag} are uncommitted. */
    private void commitToLag() {
        while (gsn - committed > lag) {
            Gsn g = Gsn.of(++committed);
            digest(tracker.takeLateRestores(g, g));
            tracker.committed(g);
        }
    }

    private void digest(List<?> restores) {
        digest = digest * 1_000_003 + restores.hashCode();
    }

    private ChangeSet transaction(NodeId origin, Gsn deps) {
        int aid = rnd.nextInt(accounts);
        int delta = rnd.nextInt(10_000) - 5_000;
        String hid = origin.value() + "-" + history++;
        Tuple hisRow = Tuple.ofTexts(hid, Integer.toString(aid), Integer.toString(delta));
        List<Change> changes = List.of(
                update(ACC_REL, ACC, aid, delta),
                update(TEL_REL, TEL, rnd.nextInt(tellers), delta),
                update(BRA_REL, BRA, rnd.nextInt(branches), delta),
                new RowChange(HIS_REL, Op.INSERT, hisRow, null, false, List.of(
                        new Key(KeyKind.WRITE, HIS, "history_pkey", List.of(hid)),
                        new Key(KeyKind.REFERENCE, ACC, "accounts_pkey", List.of(Integer.toString(aid))))));
        lsn++;
        return new ChangeSet(new Gtid(origin, Lsn.of(lsn)), lsn, Instant.EPOCH, deps, changes);
    }

    /** An UPDATE of a balance with a complete old tuple (the values are arbitrary: only the keys decide). */
    private RowChange update(Relation rel, RelationName name, int id, int delta) {
        String key = Integer.toString(id);
        Tuple old = Tuple.ofTexts(key, Integer.toString(rnd.nextInt(100_000)));
        Tuple now = Tuple.ofTexts(key, Integer.toString(delta));
        return new RowChange(rel, Op.UPDATE, now, old, false, new ArrayList<>(List.of(
                new Key(KeyKind.WRITE, name, name.table() + "_pkey", List.of(key)))));
    }

    private static Relation balanceTable(RelationName name) {
        return new Relation(name, 'f', List.of(new Column("id", true, 23, -1), new Column("balance", false, 23, -1)));
    }
}
