package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static io.chorus.coordinator.apply.Units.remote;
import static io.chorus.coordinator.apply.Units.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Column;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The applier against a real PostgreSQL: ordered commit, durable watermark, conflicts, restores, local units. */
class ApplierTest {
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("apply");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void commitsInGsnOrderUnderParallelism() throws Exception {
        TestDb db = TestDb.create(pg, "ordered");
        db.exec("CREATE TABLE items (id int PRIMARY KEY, v text)", "CREATE TABLE counter (id int PRIMARY KEY, n bigint)",
                "INSERT INTO counter VALUES (1, 0)");
        Relation items = relation("items", "id", "v");
        Relation counter = relation("counter", "id", "n");
        int n = 1500;
        List<ApplyUnit> units = new ArrayList<>();
        for (int g = 1; g <= n; g++) {
            units.add(g % 7 == 0 ? remote(g, "node2", insert(items, "" + g, "v" + g), update(counter, "1", "" + g))
                    : remote(g, "node2", insert(items, "" + g, "v" + g)));
        }
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().poolSize(4).maxBatch(3).build(), rec)) {
            List<String> violations = new ArrayList<>();
            int samples = 0;
            try (Connection c = DriverManager.getConnection(db.url()); Statement st = c.createStatement()) {
                for (int from = 0; from < n; from += 150) {
                    submitAll(applier, units.subList(from, Math.min(n, from + 150)));
                    for (int i = 0; i < 3; i++) {
                        samples += sample(db, st, violations) ? 1 : 0;
                    }
                }
            }
            applier.awaitApplied(Gsn.of(n), TestDb.WAIT);
            assertThat(violations).as("progress vs data samples").isEmpty();
            assertThat(samples).as("samples taken while applying").isEqualTo(n / 150 * 3);
            assertThat(applier.transactions()).isGreaterThan(n / 3 - 1);
            assertThat(applier.peakParallelism()).as("transactions open at once").isGreaterThan(1);
            assertThat(rec.applied).isSortedAccordingTo(Gsn::compareTo);
        }
        assertThat(db.queryLong("SELECT count(*) FROM items")).isEqualTo(n);
        assertThat(db.queryLong("SELECT n FROM counter")).isEqualTo(n / 7 * 7);
        assertThat(db.watermark()).isEqualTo(Gsn.of(n));
    }

    /** W read before and after the data must bracket it, and the data must be exactly the prefix 1..count. */
    private static boolean sample(TestDb db, Statement st, List<String> violations) throws Exception {
        long before = db.watermark().value();
        long count;
        long max;
        long counter;
        try (ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM items), (SELECT coalesce(max(id), 0) FROM "
                + "items), (SELECT n FROM counter)")) {
            rs.next();
            count = rs.getLong(1);
            max = rs.getLong(2);
            counter = rs.getLong(3);
        }
        long after = db.watermark().value();
        if (count != max || count < before || count > after || counter != count / 7 * 7) {
            violations.add("W " + before + ".." + after + " but count=" + count + " max=" + max + " counter=" + counter);
        }
        return true;
    }

    private static void submitAll(Applier applier, List<ApplyUnit> units) {
        try {
            for (ApplyUnit u : units) {
                applier.submit(u);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void watermarkSurvivesReopenAndConflictsAreWrittenWithTheData() throws Exception {
        TestDb db = TestDb.create(pg, "reopen");
        db.exec("CREATE TABLE t (id int PRIMARY KEY, big text, v text)");
        Relation t = relation("t", "id", "big", "v");
        ConflictRow lost = new ConflictRow(3, 0, "update_update", "node1", 2, "node2", "public.t", "WRITE:public.t/pkey[1]", 2);
        ConflictRow lostLocal = new ConflictRow(4, 1, "insert_insert", "node1", 1, "node2", "public.t", "WRITE:public.t/pkey[2]", 1);
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().build(), rec)) {
            applier.submit(remote(1, "node2", insert(t, "1", "toast-me", "a"), insert(t, "2", "x", "b")));
            Tuple unchangedBig = Tuple.builder(3).setText(0, "1").setUnchanged(1).setText(2, "a2").build();
            applier.submit(remote(2, "node2", update(t, unchangedBig)));
            applier.submit(new ApplyUnit(Gsn.of(3), Units.gtid("node1", 3), Instant.now(), false, List.of(),
                    List.of(), List.of(lost), List.of()));
            applier.submit(Units.local(4, "node1", List.of(lostLocal)));
            for (int g = 5; g <= 20; g++) {
                applier.submit(Units.local(g, "node1", List.of()));
            }
            applier.awaitApplied(Gsn.of(20), TestDb.WAIT);
        }
        assertThat(db.watermark()).isEqualTo(Gsn.of(20));
        try (Connection c = DriverManager.getConnection(db.url())) {
            assertThat(ApplyProgress.readOriginProgress(c, db.originPrefix())).as("origins carry the GSN too")
                    .isEqualTo(Gsn.of(20));
        }
        assertThat(db.column("SELECT id || ':' || big || ':' || v FROM t ORDER BY id")).containsExactly("1:toast-me:a2",
                "2:x:b");
        assertThat(db.column("SELECT gsn || '/' || change_index || '/' || kind || '/' || winner_gsn || '/' || key "
                + "FROM chorus.conflicts ORDER BY gsn")).containsExactly("3/0/update_update/2/WRITE:public.t/pkey[1]",
                "4/1/insert_insert/1/WRITE:public.t/pkey[2]");

        try (Applier again = new Applier(db.config().build(), ApplyListener.NONE)) {
            assertThat(again.startWatermark()).isEqualTo(Gsn.of(20));
            assertThat(again.appliedGsn()).isEqualTo(Gsn.of(20));
            again.submit(remote(20, "node2", insert(t, "20", "dup", "dup")));
            again.submit(remote(21, "node2", insert(t, "3", "y", "c")));
            again.awaitApplied(Gsn.of(21), TestDb.WAIT);
            assertThat(db.column("SELECT id::text FROM t ORDER BY id")).containsExactly("1", "2", "3");
            again.submit(new ApplyUnit(Gsn.of(22), Units.gtid("node2", 22), Instant.now(), false, List.of(),
                    List.of(new TruncateChange(List.of(t.name()), false, false)), List.of(),
                    List.of(io.chorus.changeset.Key.table(t.name()))));
            again.awaitApplied(Gsn.of(22), TestDb.WAIT);
        }
        assertThat(db.queryLong("SELECT count(*) FROM t")).isZero();
        assertThat(db.watermark()).isEqualTo(Gsn.of(22));
    }

    @Test
    void restoresRunFirstAndCanSwapUniqueValues() throws Exception {
        TestDb db = TestDb.create(pg, "restore");
        db.exec("CREATE TABLE u (id int PRIMARY KEY, email text UNIQUE)",
                "INSERT INTO u VALUES (1, 'b@x'), (2, 'a@x'), (3, 'gone@x')");
        Relation u = relation("u", "id", "email");
        List<RestoreRow> restores = List.of(new RestoreRow(u, List.of("1"), Tuple.ofTexts("1", "a@x")),
                new RestoreRow(u, List.of("2"), Tuple.ofTexts("2", "b@x")), new RestoreRow(u, List.of("3"), null));
        ApplyUnit winner = new ApplyUnit(Gsn.of(1), Units.gtid("node2", 1), Instant.now(), false, restores,
                List.of(insert(u, "4", "c@x")), List.of(), List.of(Units.write(u, "4")));
        try (Applier applier = new Applier(db.config().build(), ApplyListener.NONE)) {
            applier.submit(winner);
            applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
            assertThat(applier.rows()).isEqualTo(4);
        }
        assertThat(db.column("SELECT id || '=' || email FROM u ORDER BY id")).containsExactly("1=a@x", "2=b@x", "4=c@x");
    }

    @Test
    void multiRowUpdatesAndDeletesKeepOrderAndTypes() throws Exception {
        TestDb db = TestDb.create(pg, "multirow");
        db.exec("CREATE TABLE m (id int PRIMARY KEY, v text, n numeric(10,2), at timestamptz, c char(5))",
                "INSERT INTO m SELECT i, 'v' || i, i, now(), 'x' FROM generate_series(1, 300) i");
        Relation m = relation("m", "id", "v", "n", "at", "c");
        List<ApplyUnit> units = new ArrayList<>();
        for (int g = 1; g <= 200; g++) {
            units.add(remote(g, "node2", update(m, "" + g, "u" + g, g + ".25", "2026-01-0" + (1 + g % 9) + " 00:00:00+00",
                    g % 2 == 0 ? "even" : null)));
        }
        for (int g = 201; g <= 300; g++) {
            units.add(remote(g, "node2", Units.delete(m, "" + g)));
        }
        // the same row twice in one transaction: the second write must win
        units.add(remote(301, "node2", update(m, "1", "first", "1", null, null), update(m, "1", "second", "2", null,
                null)));
        try (Applier applier = new Applier(db.config().poolSize(2).maxBatch(500).build(), ApplyListener.NONE)) {
            submitAll(applier, units);
            applier.awaitApplied(Gsn.of(301), TestDb.WAIT);
        }
        assertThat(db.queryLong("SELECT count(*) FROM m")).isEqualTo(200);
        assertThat(db.column("SELECT v || '/' || n || '/' || coalesce(c, '-') FROM m WHERE id IN (1, 2, 3, 200) "
                + "ORDER BY id")).containsExactly("second/2.00/-", "u2/2.25/even", "u3/3.25/-", "u200/200.25/even");
        assertThat(db.queryLong("SELECT count(*) FROM m WHERE at = '2026-01-05 00:00:00+00'")).isEqualTo(22);
    }

    @Test
    void lateRestoresFromTheGuardRunFirstAndPreventFalseDivergence() throws Exception {
        TestDb db = TestDb.create(pg, "guard");
        db.exec("CREATE TABLE g (id int PRIMARY KEY, v text)", "INSERT INTO g VALUES (5, 'local-pending')");
        Relation g = relation("g", "id", "v");
        // a local commit raced the winner at GSN 1: it changed row 5 and deleted row 7, and the guard learns of it
        // only once the capture caught up
        List<RestoreRow> late = List.of(new RestoreRow(g, List.of("5"), Tuple.ofTexts("5", "base")),
                new RestoreRow(g, List.of("7"), Tuple.ofTexts("7", "base7")));
        List<Gsn> committed = new CopyOnWriteArrayList<>();
        AtomicInteger caughtUp = new AtomicInteger();
        AtomicBoolean handedOut = new AtomicBoolean();
        ApplyGuard guard = new ApplyGuard() {
            @Override
            public void awaitCaptureCaughtUp(Duration timeout) {
                caughtUp.incrementAndGet();
            }

            @Override
            public List<RestoreRow> takeLateRestores(Gsn first, Gsn last) {
                // known once the capture caught up; handed out once
                return caughtUp.get() >= 1 && !first.isAfter(Gsn.of(1)) && handedOut.compareAndSet(false, true) ? late
                        : List.of();
            }

            @Override
            public void committed(Gsn upTo) {
                committed.add(upTo);
            }
        };
        try (Applier applier = new Applier(db.config().guard(guard).build(), ApplyListener.NONE)) {
            applier.submit(remote(1, "node2", update(g, "7", "winner")));
            applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
            applier.submit(remote(2, "node2", insert(g, "8", "next")));
            applier.awaitApplied(Gsn.of(2), TestDb.WAIT);
        }
        assertThat(db.column("SELECT id || '=' || v FROM g ORDER BY id")).containsExactly("5=base", "7=winner",
                "8=next");
        assertThat(committed).containsExactly(Gsn.of(1), Gsn.of(2));
    }

    @Test
    void selfDeliveredUnitsShareOneProgressTransactionAfterTheIdleFlush() throws Exception {
        TestDb db = TestDb.create(pg, "idle");
        try (Applier applier = new Applier(db.config().idleFlush(Duration.ofMillis(300)).build(), ApplyListener.NONE)) {
            for (int g = 1; g <= 5; g++) {
                applier.submit(Units.local(g, "node1", List.of()));
            }
            applier.awaitApplied(Gsn.of(5), TestDb.WAIT);
            assertThat(db.watermark()).as("durable W").isEqualTo(Gsn.of(5));
            assertThat(applier.transactions()).as("one progress-only transaction for five local units").isEqualTo(1);
        }
    }

    @Test
    void replicaIdentityFullTablesAreMatchedByTheirPrimaryKey() throws Exception {
        TestDb db = TestDb.create(pg, "full");
        db.exec("CREATE TABLE f (id int PRIMARY KEY, doc json, n int)", "ALTER TABLE f REPLICA IDENTITY FULL",
                "INSERT INTO f SELECT i, ('{\"a\": ' || i || '}')::json, i FROM generate_series(1, 20) i");
        // REPLICA IDENTITY FULL: the decoder flags every column as a key column and sends full old rows
        Relation f = new Relation(RelationName.of("public", "f"), 'f', List.of(
                new Column("id", true, 23, -1), new Column("doc", true, 114, -1),
                new Column("n", true, 23, -1)));
        List<ApplyUnit> units = new ArrayList<>();
        for (int g = 1; g <= 12; g++) {
            Tuple old = Tuple.ofTexts("" + g, "{\"a\": " + g + "}", "" + g);
            units.add(remote(g, "node2", new RowChange(f, Op.UPDATE,
                    Tuple.ofTexts("" + g, "{\"b\": " + g + "}", "" + (g * 10)), old, false, 
                    List.of(Units.write(f, "" + g)))));
        }
        Tuple old13 = Tuple.ofTexts("13", "{\"a\": 13}", "13");
        units.add(remote(13, "node2", new RowChange(f, Op.DELETE, null, old13,
                false, List.of(Units.write(f, "13")))));
        // a key update, then a change to the row under its new key, in one transaction
        Tuple old14 = Tuple.ofTexts("14", "{\"a\": 14}", "14");
        units.add(remote(14, "node2", new RowChange(f, Op.UPDATE,
                Tuple.ofTexts("114", "{\"a\": 14}", "14"), old14, false, List.of(Units.write(f, "114"))),
                new RowChange(f, Op.UPDATE, Tuple.ofTexts("114", "{}", "1400"),
                        Tuple.ofTexts("114", "{\"a\": 14}", "14"), false, List.of(Units.write(f, "114")))));
        try (Applier applier = new Applier(db.config().maxBatch(100).build(), ApplyListener.NONE)) {
            submitAll(applier, units);
            applier.awaitApplied(Gsn.of(14), TestDb.WAIT);
        }
        assertThat(db.column("SELECT id || ':' || doc::text || ':' || n FROM f WHERE id IN (1, 12, 13, 14, 114, 15) "
                + "ORDER BY id")).containsExactly("1:{\"b\": 1}:10", "12:{\"b\": 12}:120", "15:{\"a\": 15}:15",
                "114:{}:1400");
    }
}
