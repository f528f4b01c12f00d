package io.chorus.changeset.capture;

import static io.chorus.changeset.capture.CaptureTestSupport.TIMEOUT;
import static io.chorus.changeset.capture.CaptureTestSupport.awaitCount;
import static io.chorus.changeset.capture.CaptureTestSupport.config;
import static io.chorus.changeset.capture.CaptureTestSupport.exec;
import static io.chorus.changeset.capture.CaptureTestSupport.newDatabase;
import static io.chorus.changeset.capture.CaptureTestSupport.query;
import static io.chorus.changeset.capture.CaptureTestSupport.startDelivering;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.RowChange;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Walsender terminated mid-stream, capture restarted from its state file. */
class CaptureRecoveryIT {
    private static PgServer pg;

    @BeforeAll
    static void startServer() {
        pg = PgServer.start("recovery");
    }

    @AfterAll
    static void stopServer() {
        pg.close();
    }

    @Test
    void terminatedWalsenderLosesNothingAndDuplicatesOnlyByGtid() throws Exception {
        String db = newDatabase(pg, "kill");
        exec(pg, db, "CREATE TABLE t(id int PRIMARY KEY)");
        CaptureConfig cfg = config(pg, db);
        RecordingListener rec = new RecordingListener();
        int total = 1500;
        ExecutorService writer = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-writer"));
        try (SlotCapture cap = startDelivering(cfg, rec)) {
            Future<?> writes = writer.submit(() -> {
                try (Connection c = pg.connect(db); PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?)")) {
                    for (int i = 1; i <= total; i++) {
                        ps.setInt(1, i);
                        ps.executeUpdate();
                    }
                }
                return null;
            });
            for (int kill = 1; kill <= 3; kill++) {
                int atLeast = kill * total / 4;
                Await.until(atLeast + " changesets before kill " + kill, TIMEOUT, () -> rec.deduped().size() >= atLeast);
                terminateWalsender(cfg.slotName());
                int reconnectsBefore = kill;
                Await.until("reconnect " + kill, TIMEOUT, () -> cap.reconnects() >= reconnectsBefore);
            }
            writes.get(60, TimeUnit.SECONDS);
            awaitCount(rec, total);
            List<ChangeSet> deduped = rec.deduped();
            List<String> ids = new ArrayList<>();
            for (ChangeSet cs : deduped) {
                assertThat(cs.changes()).hasSize(1);
                ids.add(((RowChange) cs.changes().get(0)).newTuple().text(0));
            }
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= total; i++) {
                expected.add(Integer.toString(i));
            }
            assertThat(ids).as("deduped sequence equals the committed sequence").isEqualTo(expected);
            int reEmits = rec.all().size() - deduped.size();
            System.out.printf("walsender terminated 3 times: %d changesets, %d re-emitted (capture counted %d), %d reconnects%n",
                    total, reEmits, cap.reEmitted(), cap.reconnects());
            assertThat(cap.reEmitted()).isEqualTo(reEmits);
            Lsn last = deduped.get(total - 1).gtid().commitLsn();
            Await.until("slot confirmed past the last changeset (duplicates are not delivered twice)", TIMEOUT,
                    () -> confirmedFlush(cfg.slotName()).isAfter(last));
            assertThat(rec.failure()).isNull();
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void restartResumesFromFirstUndeliveredWithPersistedDeps() throws SQLException {
        String db = newDatabase(pg, "restart");
        exec(pg, db, "CREATE TABLE t(id int PRIMARY KEY)", "SELECT pg_replication_origin_create('chorus_h1')");
        CaptureConfig cfg = config(pg, db);
        RecordingListener first = new RecordingListener();
        List<ChangeSet> before;
        try (Connection helper = pg.connect(db); Statement hs = helper.createStatement()) {
            hs.execute("SELECT pg_replication_origin_session_setup('chorus_h1')");
            try (SlotCapture cap = new SlotCapture(cfg, first)) {
                cap.start();
                exec(pg, db, "INSERT INTO t VALUES (1)");
                helperInsert(hs, 5, 100);
                exec(pg, db, "INSERT INTO t VALUES (2)");
                helperInsert(hs, 6, 101);
                exec(pg, db, "INSERT INTO t VALUES (3)");
                awaitCount(first, 3);
                before = first.deduped();
                assertThat(before).extracting(ChangeSet::deps).containsExactly(Gsn.NONE, Gsn.of(5), Gsn.of(6));
                cap.markDelivered(before.get(0).gtid().commitLsn());
                Lsn second = before.get(1).gtid().commitLsn();
                Await.until("confirmed position at the first undelivered changeset", TIMEOUT,
                        () -> cap.confirmedLsn().equals(second), () -> "(confirmed " + cap.confirmedLsn() + ")");
            }
        }
        assertThat(query(pg, db, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '"
                + cfg.slotName() + "'")).isEqualTo(before.get(1).gtid().commitLsn().toString());
        RecordingListener again = new RecordingListener();
        try (SlotCapture cap = new SlotCapture(cfg, again)) {
            cap.start();
            awaitCount(again, 2);
            assertThat(again.deduped()).as("the undelivered changesets, same GTID, same deps").isEqualTo(before.subList(1, 3));
            assertThat(again.helpers()).extracting(RecordingListener.Helper::gsn).containsExactly(Gsn.of(6));
        }
    }

    private static Lsn confirmedFlush(String slot) {
        try {
            return Lsn.parse(query(pg, "postgres", "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'"));
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void helperInsert(Statement helper, int gsn, int id) throws SQLException {
        helper.execute("BEGIN; SELECT pg_replication_origin_xact_setup('0/" + Integer.toHexString(gsn) + "', now()); "
                + "INSERT INTO t VALUES (" + id + "); COMMIT");
    }

    private static void terminateWalsender(String slot) throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            Await.until("an active walsender on slot " + slot, TIMEOUT, () -> {
                try (var rs = st.executeQuery("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                        + " WHERE slot_name = '" + slot + "' AND active_pid IS NOT NULL")) {
                    return rs.next() && rs.getBoolean(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }
}
