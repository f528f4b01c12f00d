package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static io.chorus.coordinator.apply.Units.remote;
import static io.chorus.coordinator.apply.Units.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The applier under faults: hidden conflicts, killed helpers, persistent errors, divergence. */
class ApplierFaultTest {
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("applyfault");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void headBlockedByLaterHelperThroughTriggerIsResolved() throws Exception {
        TestDb db = TestDb.create(pg, "hidden");
        db.exec("CREATE TABLE t (id int PRIMARY KEY)", "CREATE TABLE summary (id int PRIMARY KEY, n int)",
                "INSERT INTO summary VALUES (1, 0)",
                // the keys show three independent rows; the trigger makes all three write the same summary row,
                // and GSN 1 takes its lock last
                """
                CREATE FUNCTION count_t() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.id = 1 THEN PERFORM pg_sleep(0.5); END IF;
                  UPDATE summary SET n = n + 1 WHERE id = 1;
                  RETURN NEW;
                END $$""",
                "CREATE TRIGGER count_t AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION count_t()",
                "ALTER TABLE t ENABLE ALWAYS TRIGGER count_t");
        Relation t = relation("t", "id");
        try (Applier applier = new Applier(db.config().poolSize(3).maxBatch(1).build(), ApplyListener.NONE)) {
            for (int g = 1; g <= 3; g++) {
                applier.submit(remote(g, "node2", insert(t, "" + g)));
            }
            applier.awaitApplied(Gsn.of(3), TestDb.WAIT);
            assertThat(applier.hiddenConflicts()).as("later helpers rolled back for the head").isPositive();
        }
        assertThat(db.queryLong("SELECT n FROM summary")).isEqualTo(3);
        assertThat(db.queryLong("SELECT count(*) FROM t")).isEqualTo(3);
        assertThat(db.watermark()).isEqualTo(Gsn.of(3));
    }

    @Test
    void killedHelpersReRunWithoutLossOrDuplicate() throws Exception {
        TestDb db = TestDb.create(pg, "killed");
        db.exec("CREATE TABLE ledger (id int PRIMARY KEY, v text)", "CREATE TABLE acc (id int PRIMARY KEY, v int)",
                "INSERT INTO acc SELECT i, 0 FROM generate_series(0, 49) i");
        Relation ledger = relation("ledger", "id", "v");
        Relation acc = relation("acc", "id", "v");
        int n = 6000;
        Units.Recorder rec = new Units.Recorder();
        long killed = 0;
        try (Applier applier = new Applier(db.config().poolSize(4).maxBatch(5).build(), rec)) {
            for (int g = 1; g <= n; g++) {
                applier.submit(remote(g, "node2", insert(ledger, "" + g, "x"), update(acc, "" + g % 50, "" + g)));
                if (g % 1500 == 0) {
                    applier.awaitApplied(Gsn.of(g - 700), TestDb.WAIT);
                    killed += db.terminateHelpers();
                }
            }
            applier.awaitApplied(Gsn.of(n), TestDb.WAIT);
            assertThat(killed).as("helper backends terminated").isPositive();
            assertThat(applier.retries()).as("re-runs after the kills").isPositive();
            assertThat(rec.failure.get()).isNull();
        }
        assertThat(db.column("SELECT g::text FROM generate_series(1, " + n + ") g WHERE NOT EXISTS (SELECT 1 FROM "
                + "ledger WHERE id = g)")).as("GSNs missing from the ledger").isEmpty();
        assertThat(db.queryLong("SELECT count(*) FROM ledger")).isEqualTo(n);
        assertThat(db.queryLong("SELECT count(DISTINCT id) FROM ledger WHERE id BETWEEN 1 AND " + n)).isEqualTo(n);
        assertThat(db.queryLong("SELECT count(*) FROM acc WHERE v = (SELECT max(g) FROM generate_series(1, " + n
                + ") g WHERE g % 50 = acc.id)")).isEqualTo(50);
        assertThat(db.watermark()).isEqualTo(Gsn.of(n));
    }

    @Test
    void persistentErrorStopsAndNothingAfterItCommits() throws Exception {
        TestDb db = TestDb.create(pg, "persistent");
        db.exec("CREATE TABLE good (id int PRIMARY KEY)", "CREATE TABLE gone (id int PRIMARY KEY)", "DROP TABLE gone");
        Relation good = relation("good", "id");
        Relation gone = relation("gone", "id");
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().maxBatch(10).build(), rec)) {
            for (int g = 1; g <= 10; g++) {
                applier.submit(remote(g, "node2", insert(g == 6 ? gone : good, "" + g)));
            }
            assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(10), TestDb.WAIT)).isInstanceOf(ChorusException.class)
                    .hasMessageContaining("GSN 10 will not be applied").hasMessageContaining("42P01");
            assertThat(applier.failure()).isNotNull();
            assertThat(applier.failure().getMessage()).contains("applying GSN 6 (origin node2)", "SQLState 42P01",
                    "\"public.gone\"", "every GSN up to 5 committed", "will not skip GSN 6");
            assertThat(applier.appliedGsn()).isEqualTo(Gsn.of(5));
            assertThatThrownBy(() -> applier.submit(remote(11, "node2", insert(good, "11"))))
                    .hasMessageContaining("the applier stopped");
        }
        assertThat(rec.failure.get()).as("listener told").isNotNull();
        assertThat(db.column("SELECT id::text FROM good ORDER BY id")).containsExactly("1", "2", "3", "4", "5");
        assertThat(db.watermark()).isEqualTo(Gsn.of(5));
    }

    @Test
    void updateOfMissingRowRaisesDivergenceUnlessItIsAPendingRow() throws Exception {
        TestDb db = TestDb.create(pg, "diverge");
        db.exec("CREATE TABLE d (id int PRIMARY KEY, v text)", "INSERT INTO d VALUES (1, 'a')");
        Relation d = relation("d", "id", "v");
        Units.Recorder rec = new Units.Recorder();
        PendingRows pending = (rel, identity) -> rel.equals(d.name()) && identity.equals(List.of("98"));
        try (Applier applier = new Applier(db.config().pendingRows(pending).build(), rec)) {
            applier.submit(remote(1, "node2", update(d, "1", "b")));
            applier.submit(remote(2, "node2", update(d, "98", "pending")));
            applier.submit(remote(3, "node3", update(d, "99", "lost")));
            applier.submit(remote(4, "node2", update(d, "1", "c")));
            assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(4), TestDb.WAIT)).isInstanceOf(ChorusException.class);
            assertThat(applier.failure()).isInstanceOf(DivergenceException.class);
            assertThat(applier.failure().getMessage()).contains("DIVERGENCE at GSN 3 (origin node3)",
                    "an UPDATE found no row in public.d key [99]");
            assertThat(applier.appliedGsn()).isEqualTo(Gsn.of(2));
        }
        assertThat(rec.failure.get()).as("listener told").isInstanceOf(DivergenceException.class);
        assertThat(db.column("SELECT id || v FROM d")).containsExactly("1b");
        assertThat(db.watermark()).isEqualTo(Gsn.of(2));
    }

    @Test
    void insertOfExistingRowRaisesDivergence() throws Exception {
        TestDb db = TestDb.create(pg, "dupkey");
        db.exec("CREATE TABLE k (id int PRIMARY KEY)", "INSERT INTO k VALUES (7)");
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().build(), rec)) {
            applier.submit(remote(1, "node2", insert(relation("k", "id"), "7")));
            assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(1), TestDb.WAIT)).isInstanceOf(ChorusException.class);
            assertThat(applier.failure()).isInstanceOf(DivergenceException.class);
            assertThat(applier.failure().getMessage()).contains("DIVERGENCE at GSN 1", "public.k key [7]", "23505");
        }
        assertThat(rec.failure.get()).as("listener told").isInstanceOf(DivergenceException.class);
        assertThat(db.watermark()).isEqualTo(Gsn.NONE);
    }

    @Test
    void missingRowInsideAMultiRowUpdateIsPinnedToItsGsn() throws Exception {
        TestDb db = TestDb.create(pg, "chunk");
        db.exec("CREATE TABLE c (id int PRIMARY KEY, v text)",
                "INSERT INTO c SELECT i, 'old' FROM generate_series(1, 40) i", "DELETE FROM c WHERE id = 20");
        Relation c = relation("c", "id", "v");
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().maxBatch(100).build(), rec)) {
            for (int g = 1; g <= 40; g++) {
                applier.submit(remote(g, "node2", update(c, "" + g, "new")));
            }
            assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(40), TestDb.WAIT)).isInstanceOf(ChorusException.class);
            assertThat(applier.failure()).isInstanceOf(DivergenceException.class)
                    .hasMessageContaining("DIVERGENCE at GSN 20").hasMessageContaining("public.c key [20]");
            assertThat(applier.appliedGsn()).isEqualTo(Gsn.of(19));
            assertThat(applier.carefulReruns()).as("re-run in careful mode to find the row").isPositive();
        }
        assertThat(db.queryLong("SELECT count(*) FROM c WHERE v = 'new'")).isEqualTo(19);
        assertThat(db.queryLong("SELECT max(id) FROM c WHERE v = 'new'")).isEqualTo(19);
        assertThat(db.watermark()).isEqualTo(Gsn.of(19));
    }

    @Test
    void referencedParentIsKeySharedUntilTheWinnerCommits() throws Exception {
        TestDb db = TestDb.create(pg, "fklock");
        db.exec("CREATE TABLE p (id int PRIMARY KEY)", "INSERT INTO p VALUES (1)",
                "CREATE TABLE ch (id int PRIMARY KEY, pid int REFERENCES p)",
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NEW; "
                        + "END $$",
                "CREATE TRIGGER slow BEFORE INSERT ON ch FOR EACH ROW EXECUTE FUNCTION slow()",
                "ALTER TABLE ch ENABLE ALWAYS TRIGGER slow");
        Relation ch = relation("ch", "id", "pid");
        RowChange child = insert(ch, "10", "1");
        ApplyUnit unit = new ApplyUnit(Gsn.of(1), Units.gtid("node2", 1), Instant.now(), false, List.of(),
                List.of(child), List.of(), List.of(Units.write(ch, "10"), new Key(KeyKind.REFERENCE,
                        RelationName.of("public", "p"), "pkey", List.of("1"))));
        try (Applier applier = new Applier(db.config().poolSize(1).build(), ApplyListener.NONE)) {
            applier.submit(unit);
            long deadline = System.nanoTime() + TestDb.WAIT.toNanos();
            while (db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'fklock_h%' AND "
                    + "wait_event = 'PgSleep'") == 0) {
                assertThat(System.nanoTime()).as("helper reached the slow trigger").isLessThan(deadline);
            }
            assertThatThrownBy(() -> db.exec("SET lock_timeout = '300ms'", "DELETE FROM p WHERE id = 1"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
            applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
        }
        assertThat(db.queryLong("SELECT count(*) FROM ch WHERE pid = 1")).isEqualTo(1);
    }

    @Test
    void headWaitingOnALocalLockTimesOutClearlyAndCloseStillReturns() throws Exception {
        TestDb db = TestDb.create(pg, "stuck");
        db.exec("CREATE TABLE s (id int PRIMARY KEY, v text)", "INSERT INTO s VALUES (1, 'a')");
        try (Connection local = DriverManager.getConnection(db.url()); Statement st = local.createStatement()) {
            local.setAutoCommit(false);
            st.execute("SELECT * FROM s WHERE id = 1 FOR UPDATE");
            Applier applier = new Applier(db.config().retryWait(Duration.ofSeconds(1)).build(), ApplyListener.NONE);
            try {
                applier.submit(remote(1, "node2", update(relation("s", "id", "v"), "1", "b")));
                assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(1), Duration.ofMillis(500)))
                        .isInstanceOf(ChorusException.class)
                        .hasMessageContaining("timed out after 500 ms waiting for GSN 1 to be applied")
                        .hasMessageContaining("applied=0, submitted=1").hasMessageContaining("inFlight=1");
            } finally {
                long start = System.nanoTime();
                applier.close();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close with a stuck head")
                        .isLessThan(Duration.ofSeconds(15));
            }
            local.rollback();
        }
        assertThat(db.column("SELECT v FROM s")).containsExactly("a");
        assertThat(db.watermark()).isEqualTo(Gsn.NONE);
    }
}
