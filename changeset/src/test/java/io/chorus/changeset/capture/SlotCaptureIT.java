package io.chorus.changeset.capture;

import static io.chorus.changeset.capture.CaptureTestSupport.awaitCount;
import static io.chorus.changeset.capture.CaptureTestSupport.config;
import static io.chorus.changeset.capture.CaptureTestSupport.exec;
import static io.chorus.changeset.capture.CaptureTestSupport.newDatabase;
import static io.chorus.changeset.capture.CaptureTestSupport.startDelivering;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Op;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.testkit.PgServer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Transaction assembly, tuple markers, TOAST and helper commits against a real server. */
class SlotCaptureIT {
    private static PgServer pg;

    @BeforeAll
    static void startServer() {
        pg = PgServer.start("capture");
    }

    @AfterAll
    static void stopServer() {
        pg.close();
    }

    @Test
    void assemblesTransactionsWithoutRolledBackSavepointsOrBookkeeping() throws SQLException {
        String db = newDatabase(pg, "tx");
        exec(pg, db, "CREATE TABLE a(id int PRIMARY KEY, v text)", "CREATE TABLE b(id int PRIMARY KEY)",
                "CREATE TABLE p(id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k)",
                "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10)",
                "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20)",
                "CREATE SCHEMA chorus", "CREATE TABLE chorus.bk(id int PRIMARY KEY)");
        RecordingListener rec = new RecordingListener();
        try (SlotCapture cap = startDelivering(config(pg, db), rec)) {
            exec(pg, db, "BEGIN; INSERT INTO a VALUES (1, 'one'); SAVEPOINT s; INSERT INTO a VALUES (2, 'two'); "
                    + "ROLLBACK TO s; INSERT INTO a VALUES (3, 'three'); UPDATE a SET v = 'uno' WHERE id = 1; "
                    + "INSERT INTO chorus.bk VALUES (1); COMMIT");
            exec(pg, db, "INSERT INTO b VALUES (7)", "TRUNCATE a, b");
            exec(pg, db, "INSERT INTO p VALUES (1, 5), (2, 15)", "INSERT INTO chorus.bk VALUES (2)");
            exec(pg, db, "BEGIN; SELECT pg_logical_emit_message(true, 'chorus.ddl', 'ALTER TABLE x'); "
                    + "SELECT pg_logical_emit_message(false, 'other', 'not replicated'); COMMIT");
            awaitCount(rec, 5);
            List<ChangeSet> got = rec.deduped();
            assertThat(got).hasSize(5);

            ChangeSet first = got.get(0);
            assertThat(first.changes()).hasSize(3);
            assertRow(first.changes().get(0), "a", Op.INSERT, Tuple.ofTexts("1", "one"));
            assertRow(first.changes().get(1), "a", Op.INSERT, Tuple.ofTexts("3", "three"));
            assertRow(first.changes().get(2), "a", Op.UPDATE, Tuple.ofTexts("1", "uno"));
            assertThat(first.deps()).isEqualTo(Gsn.NONE);
            assertThat(first.gtid().origin().value()).isEqualTo("n1");

            assertRow(got.get(1).changes().get(0), "b", Op.INSERT, Tuple.ofTexts("7"));
            assertThat(got.get(2).changes()).containsExactly(new TruncateChange(
                    List.of(RelationName.of("public", "a"), RelationName.of("public", "b")), false, false));
            assertThat(got.get(3).changes()).hasSize(2);
            assertRow(got.get(3).changes().get(0), "p", Op.INSERT, Tuple.ofTexts("1", "5"));
            assertRow(got.get(3).changes().get(1), "p", Op.INSERT, Tuple.ofTexts("2", "15"));
            assertThat(got.get(4).changes()).containsExactly(
                    new MessageChange("chorus.ddl", "ALTER TABLE x".getBytes(StandardCharsets.UTF_8)));
            for (int i = 1; i < got.size(); i++) {
                assertThat(got.get(i).gtid().commitLsn()).isGreaterThan(got.get(i - 1).gtid().commitLsn());
            }
            assertThat(rec.all()).hasSize(5);
            assertThat(rec.controls()).as("non-transactional message: a control signal, after the 4 earlier commits")
                    .containsExactly("other:not replicated after 4");
        }
    }

    @Test
    void oldTupleMarkersKeyOnlyVersusFullRow() throws SQLException {
        String db = newDatabase(pg, "markers");
        exec(pg, db, "CREATE TABLE k(id int PRIMARY KEY, v text, w int)", "CREATE TABLE f(id int PRIMARY KEY, v text, w int)",
                "ALTER TABLE f REPLICA IDENTITY FULL", "INSERT INTO k VALUES (1, 'a', 10)", "INSERT INTO f VALUES (1, 'a', 10)");
        RecordingListener rec = new RecordingListener();
        try (SlotCapture cap = startDelivering(config(pg, db), rec)) {
            exec(pg, db, "UPDATE k SET v = 'b' WHERE id = 1", "UPDATE k SET id = 2 WHERE id = 1", "DELETE FROM k WHERE id = 2",
                    "UPDATE f SET v = 'b' WHERE id = 1", "DELETE FROM f WHERE id = 1");
            awaitCount(rec, 5);
            List<ChangeSet> got = rec.deduped();
            RowChange sameKey = (RowChange) got.get(0).changes().get(0);
            assertThat(sameKey.oldTuple()).as("default identity, key unchanged: no old tuple").isNull();
            RowChange keyChanged = (RowChange) got.get(1).changes().get(0);
            assertThat(keyChanged.oldIsKeyOnly()).as("'K' when the key changed").isTrue();
            assertThat(keyChanged.oldTuple()).isEqualTo(Tuple.ofTexts("1", null, null));
            assertThat(keyChanged.newTuple()).isEqualTo(Tuple.ofTexts("2", "b", "10"));
            RowChange keyDelete = (RowChange) got.get(2).changes().get(0);
            assertThat(keyDelete.oldIsKeyOnly()).isTrue();
            assertThat(keyDelete.oldTuple()).isEqualTo(Tuple.ofTexts("2", null, null));
            RowChange fullUpdate = (RowChange) got.get(3).changes().get(0);
            assertThat(fullUpdate.oldIsKeyOnly()).as("'O' = full old row under REPLICA IDENTITY FULL").isFalse();
            assertThat(fullUpdate.oldTuple()).isEqualTo(Tuple.ofTexts("1", "a", "10"));
            assertThat(fullUpdate.relation().replicaIdentity()).isEqualTo('f');
            RowChange fullDelete = (RowChange) got.get(4).changes().get(0);
            assertThat(fullDelete.oldIsKeyOnly()).isFalse();
            assertThat(fullDelete.oldTuple()).isEqualTo(Tuple.ofTexts("1", "b", "10"));
        }
    }

    @Test
    void untouchedToastedValueArrivesAsUnchangedNotNull() throws SQLException {
        String db = newDatabase(pg, "toast");
        exec(pg, db, "CREATE TABLE t(id int PRIMARY KEY, big text, n int)",
                "INSERT INTO t SELECT 1, string_agg(md5(i::text), ''), 1 FROM generate_series(1, 32768) i");
        RecordingListener rec = new RecordingListener();
        try (SlotCapture cap = startDelivering(config(pg, db), rec)) {
            exec(pg, db, "UPDATE t SET n = 2 WHERE id = 1");
            awaitCount(rec, 1);
            RowChange u = (RowChange) rec.deduped().get(0).changes().get(0);
            assertThat(u.newTuple().state(1)).isEqualTo(Tuple.State.UNCHANGED);
            assertThat(u.newTuple().isNull(1)).isFalse();
            assertThat(u.newTuple().text(2)).isEqualTo("2");
            exec(pg, db, "UPDATE t SET big = big || 'x' WHERE id = 1");
            awaitCount(rec, 2);
            RowChange touched = (RowChange) rec.deduped().get(1).changes().get(0);
            assertThat(touched.newTuple().text(1)).hasSize(32768 * 32 + 1).endsWith("x");
        }
    }

    @Test
    void helperCommitsAreReportedWithTheirGsnAndSetDeps() throws SQLException {
        String db = newDatabase(pg, "helper");
        exec(pg, db, "CREATE TABLE a(id int PRIMARY KEY)", "SELECT pg_replication_origin_create('chorus_h1')");
        RecordingListener rec = new RecordingListener();
        try (SlotCapture cap = startDelivering(config(pg, db), rec)) {
            exec(pg, db, "INSERT INTO a VALUES (1)");
            try (Connection helper = pg.connect(db); Statement st = helper.createStatement()) {
                st.execute("SELECT pg_replication_origin_session_setup('chorus_h1')");
                st.execute("BEGIN; SELECT pg_replication_origin_xact_setup('0/7', now()); INSERT INTO a VALUES (100); COMMIT");
            }
            exec(pg, db, "INSERT INTO a VALUES (2)");
            awaitCount(rec, 2);
            assertThat(rec.helpers()).hasSize(1);
            assertThat(rec.helpers().get(0).origin()).isEqualTo("chorus_h1");
            assertThat(rec.helpers().get(0).gsn()).isEqualTo(Gsn.of(7));
            List<ChangeSet> got = rec.deduped();
            assertThat(got.get(0).deps()).isEqualTo(Gsn.NONE);
            assertThat(got.get(1).deps()).isEqualTo(Gsn.of(7));
            assertRow(got.get(1).changes().get(0), "a", Op.INSERT, Tuple.ofTexts("2"));
            assertThat(rec.helpers().get(0).commitLsn()).isBetween(got.get(0).gtid().commitLsn(), got.get(1).gtid().commitLsn());
        }
    }

    @Test
    void transactionAboveSpillThresholdArrivesDiskBackedAndLivesUntilConfirmed() throws Exception {
        String db = newDatabase(pg, "spill");
        exec(pg, db, "CREATE TABLE s(id int PRIMARY KEY, v text)");
        CaptureConfig cfg = config(pg, db).withSpillThreshold(4096);
        RecordingListener rec = new RecordingListener();
        try (SlotCapture cap = new SlotCapture(cfg, rec)) {
            cap.start();
            exec(pg, db, "INSERT INTO s SELECT i, 'value ' || i FROM generate_series(1, 2000) i");
            awaitCount(rec, 1);
            ChangeSet cs = rec.deduped().get(0);
            assertThat(cs.changes()).isInstanceOf(ChangeSet.DiskBacked.class);
            List<String> seen = new java.util.ArrayList<>();
            for (Change c : cs.changes()) { // after the callback, before delivery: still readable
                seen.add(((RowChange) c).newTuple().text(1));
            }
            assertThat(seen).hasSize(2000).startsWith("value 1", "value 2").endsWith("value 2000");
            java.nio.file.Path spill = cfg.workDir().resolve("spill");
            assertThat(spillFiles(spill)).isEqualTo(1);
            cap.markDelivered(cs.gtid().commitLsn());
            Await.until("spill file deleted once the changeset is confirmed", CaptureTestSupport.TIMEOUT,
                    () -> spillFiles(spill) == 0);
        }
    }

    private static long spillFiles(java.nio.file.Path dir) {
        try (var files = java.nio.file.Files.list(dir)) {
            return files.count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertRow(Change c, String table, Op op, Tuple newTuple) {
        assertThat(c).isInstanceOf(RowChange.class);
        RowChange r = (RowChange) c;
        assertThat(r.relation().name()).isEqualTo(RelationName.of("public", table));
        assertThat(r.op()).isEqualTo(op);
        assertThat(r.newTuple()).isEqualTo(newTuple);
    }
}
