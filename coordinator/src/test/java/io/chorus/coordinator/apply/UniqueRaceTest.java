package io.chorus.coordinator.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
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
import io.chorus.coordinator.pending.PendingTracker;
import io.chorus.testkit.PgServer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A contended unique index at the loser's origin (node a), with real PostgreSQL, the real certifier and the real
 * pending-row tracker: a helper meets a unique violation (23505) from a local row the tracker did not know yet (the
 * capture had not reported its commit). The helper lets the capture catch up, the late local commit is doomed and
 * rolled back in the winner's transaction, and the winner applies; a unique violation no pending row explains still
 * stops the applier with the SQL error. The histories are the reference model's unique-index cells
 * ({@code sim_cert.py}: "insert/insert on unique value", "free a unique value then reuse it"), raced with the capture.
 */
class UniqueRaceTest {
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final RelationName H = RelationName.of("public", "handles");
    private static final Relation HREL = new Relation(H, 'f', List.of(new Column("id", true, 23, -1),
            new Column("handle", false, 25, -1)));
    private static PgServer pg;

    private final Certifier certifier = new Certifier(CertifierConfig.defaults());
    private final PendingTracker tracker = new PendingTracker(A);
    private final CaptureStandIn capture = new CaptureStandIn();
    private long lsn;
    private long gsn;

    @BeforeAll
    static void start() {
        pg = PgServer.start("uniquerace");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    /**
     * The domain's side of the guard, with the capture's reports in a queue: a local commit reaches the tracker only
     * when a helper asks the capture to catch up (as late as it can in a real domain).
     */
    private final class CaptureStandIn implements ApplyGuard {
        final Queue<ChangeSet> committedNotReported = new ConcurrentLinkedQueue<>();
        int syncs;

        @Override
        public synchronized void awaitCaptureCaughtUp(Duration timeout) {
            syncs++;
            ChangeSet cs;
            while ((cs = committedNotReported.poll()) != null) {
                tracker.addLocal(cs);
            }
        }

        @Override
        public synchronized List<RestoreRow> takeLateRestores(Gsn first, Gsn last) {
            return tracker.takeLateRestores(first, last);
        }

        @Override
        public synchronized void committed(Gsn upTo) {
            tracker.committed(upTo);
        }
    }

    private static Tuple row(String id, String handle) {
        return Tuple.ofTexts(id, handle);
    }

    private static Key key(KeyKind kind, String index, String value) {
        return new Key(kind, H, index, List.of(value));
    }

    private static RowChange insert(Tuple t) {
        return new RowChange(HREL, Op.INSERT, t, null, false, List.of(key(KeyKind.WRITE, "pkey", t.text(0)),
                key(KeyKind.WRITE, "handles_handle_key", t.text(1))));
    }

    /** A rename: the new handle is written, the old one released (R1). */
    private static RowChange rename(Tuple old, String handle) {
        Tuple t = row(old.text(0), handle);
        return new RowChange(HREL, Op.UPDATE, t, old, false, List.of(key(KeyKind.WRITE, "pkey", t.text(0)),
                key(KeyKind.WRITE, "handles_handle_key", handle), key(KeyKind.DELETE, "handles_handle_key", old.text(1))));
    }

    private ChangeSet cs(NodeId origin, long deps, RowChange... changes) {
        return new ChangeSet(new Gtid(origin, Lsn.of(++lsn)), lsn, Instant.EPOCH, Gsn.of(deps), List.of(changes));
    }

    /** What the domain's delivery does for a GSN: certify, doom or check the pending rows, one unit to the applier. */
    private Verdict deliver(Applier applier, ChangeSet cs) throws InterruptedException {
        Verdict v = certifier.certify(Gsn.of(++gsn), cs);
        boolean local = cs.origin().equals(A);
        List<RestoreRow> restores;
        synchronized (capture) {
            if (local) {
                tracker.onOwnDelivered(v);
                restores = List.of();
            } else {
                restores = tracker.onRemoteWinner(v);
            }
        }
        applier.submit(new ApplyUnit(v.gsn(), cs.gtid(), Instant.now(), local, restores,
                local ? List.of() : v.winningChanges(), v.conflictRows(), v.allKeys()));
        return v;
    }

    private TestDb handles(String name, String... rows) throws Exception {
        TestDb db = TestDb.create(pg, name);
        List<String> sql = new ArrayList<>(List.of("CREATE TABLE handles (id int PRIMARY KEY, handle text NOT NULL UNIQUE)",
                "ALTER TABLE handles REPLICA IDENTITY FULL"));
        for (String r : rows) {
            sql.add("INSERT INTO handles VALUES (" + r + ")");
        }
        db.exec(sql.toArray(String[]::new));
        return db;
    }

    private Applier applier(TestDb db, Units.Recorder rec) {
        return new Applier(db.config().poolSize(2).pendingRows(tracker).guard(capture).build(), rec);
    }

    private void report(ChangeSet cs) {
        synchronized (capture) {
            tracker.addLocal(cs);
        }
    }

    private static List<String> rows(TestDb db) throws Exception {
        return db.column("SELECT id || ':' || handle FROM handles ORDER BY id");
    }

    /**
     * Model cell "insert/insert on unique value", with a rename: b's rename onto h5 wins; a's insert of h5, committed
     * but not yet captured when the winner's helper meets it, is rolled back in the winner's transaction.
     */
    @Test
    void aWinnersRenameMeetingAnUnreportedLocalInsertOfItsValueRollsTheLocalRowBack() throws Exception {
        TestDb db = handles("ren_ins", "1, 'h1'");
        db.exec("INSERT INTO handles VALUES (2, 'h5')");
        ChangeSet mine = cs(A, 0, insert(row("2", "h5")));
        capture.committedNotReported.add(mine);
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = applier(db, rec)) {
            deliver(applier, cs(B, 0, rename(row("1", "h1"), "h5")));
            applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
            assertThat(deliver(applier, mine).lostIndexes()).as("the certifier agrees: a's insert lost").containsExactly(0);
            applier.awaitApplied(Gsn.of(2), TestDb.WAIT);
        }
        assertThat(rec.failure.get()).isNull();
        assertThat(rows(db)).containsExactly("1:h5");
        assertThat(capture.syncs).as("the helper let the capture catch up").isPositive();
        assertThat(tracker.pendingCount()).isZero();
    }

    /**
     * Model cell "free a unique value then reuse it": a renamed row 1 from h1 to h2 and then inserted row 2 with the
     * freed h1; b's insert of h2 wins. Restoring row 1 to h1 meets row 2, which the tracker does not know yet: once it
     * does, row 2 is doomed too (R2: it took the value the lost rename released) and both go back as one set.
     */
    @Test
    void anOriginRestoringItsLosingRenameFirstUndoesTheLaterLocalRowHoldingTheOldValue() throws Exception {
        TestDb db = handles("ren_reuse", "1, 'h1'");
        db.exec("UPDATE handles SET handle = 'h2' WHERE id = 1", "INSERT INTO handles VALUES (2, 'h1')");
        ChangeSet renamed = cs(A, 0, rename(row("1", "h1"), "h2"));
        ChangeSet reused = cs(A, 0, insert(row("2", "h1")));
        report(renamed);
        capture.committedNotReported.add(reused);
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = applier(db, rec)) {
            deliver(applier, cs(B, 0, insert(row("3", "h2"))));
            applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
            assertThat(deliver(applier, renamed).lostIndexes()).containsExactly(0);
            assertThat(deliver(applier, reused).lostIndexes()).as("lost by R2").containsExactly(0);
            applier.awaitApplied(Gsn.of(3), TestDb.WAIT);
        }
        assertThat(rec.failure.get()).isNull();
        assertThat(rows(db)).containsExactly("1:h1", "3:h2");
        assertThat(tracker.pendingCount()).isZero();
    }

    /** A unique violation that no pending local row explains is not papered over: the applier stops on it. */
    @Test
    void aUniqueViolationNoPendingRowExplainsStopsTheApplier() throws Exception {
        TestDb db = handles("ren_diverged", "1, 'h1'", "2, 'h5'");
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = applier(db, rec)) {
            deliver(applier, cs(B, 0, rename(row("1", "h1"), "h5")));
            assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(1), TestDb.WAIT)).isInstanceOf(ChorusException.class);
            assertThat(applier.failure().getMessage()).contains("applying GSN 1 (origin b)", "SQLState 23505",
                    "handles_handle_key", "will not skip GSN 1");
        }
        assertThat(rec.failure.get()).as("listener told").isNotNull();
        assertThat(rows(db)).containsExactly("1:h1", "2:h5");
        assertThat(capture.syncs).as("it looked for a late local commit first").isPositive();
    }
}
