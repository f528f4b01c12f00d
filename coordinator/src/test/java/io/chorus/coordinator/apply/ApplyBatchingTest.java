package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.delete;
import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static io.chorus.coordinator.apply.Units.remote;
import static io.chorus.coordinator.apply.Units.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.testkit.PgServer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** How the applier packs work into transactions: rows arranged per table and shape, units folded while blocked. */
class ApplyBatchingTest {
    private static final Relation A = relation("a", "id", "v", "n");
    private static final Relation B = relation("b", "id", "v");
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("applybatching");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void interleavedTablesGoGroupedByTableAndGenerationWithSupersededUpdatesDropped() {
        List<RowOrder.Row> rows = rows(update(A, "1", "x", "1"), update(B, "1", "y"), insert(A, "2", "p", "0"),
                update(A, "1", "x2", "2"), delete(B, "1"), update(A, "3", "z", "3"), insert(B, "1", "again"));
        assertThat(describe(RowOrder.arrange(rows))).containsExactly(
                "UPDATE a 1 x2", "UPDATE a 3 z", "INSERT a 2 p", // generation 0 of a: the second update of 1 replaced the first
                "UPDATE b 1 y", "DELETE b 1", "INSERT b 1 again"); // one identity of b: three generations, in order
    }

    @Test
    void anUpdateThatWritesFewerColumnsDoesNotReplaceTheEarlierOne() {
        Tuple vOnly = Tuple.builder(3).setText(0, "1").setText(1, "late").setUnchanged(2).build();
        List<RowOrder.Row> rows = rows(update(A, "1", "early", "7"), update(A, vOnly));
        assertThat(describe(RowOrder.arrange(rows))).containsExactly("UPDATE a 1 early", "UPDATE a 1 late");
    }

    @Test
    void tablesWithASecondaryUniqueKeyOrAKeyMoveKeepTheDecodedOrder() {
        RowChange takes = update(A, "1", "u", "1")
                .withKeys(List.of(new Key(KeyKind.WRITE, A.name(), "a_v_key", List.of("u"))));
        List<RowOrder.Row> unique = new ArrayList<>(rows(update(A, "2", "w", "2"), insert(A, "3", "q", "3")));
        unique.add(1, new RowOrder.Row(null, RowStatement.of(takes, keyColumn(A)), true));
        assertThat(describe(RowOrder.arrange(unique))).containsExactly("UPDATE a 2 w", "UPDATE a 1 u", "INSERT a 3 q");
        RowChange moves = new RowChange(A, io.chorus.changeset.Op.UPDATE, Tuple.ofTexts("9", "m", "9"),
                Tuple.ofTexts("4", "m", "4"), false, List.of());
        List<RowOrder.Row> moving = new ArrayList<>(rows(update(A, "2", "w", "2"), insert(A, "3", "q", "3")));
        moving.add(1, new RowOrder.Row(null, RowStatement.of(moves, keyColumn(A)), false));
        assertThat(describe(RowOrder.arrange(moving))).containsExactly("UPDATE a 2 w", "UPDATE a 4 m", "INSERT a 3 q");
    }

    @Test
    void unitsArrivingWhileTheirBatchWaitsForAConflictingOneJoinIt() throws Exception {
        TestDb db = TestDb.create(pg, "fold");
        db.exec("CREATE TABLE b (id int PRIMARY KEY, v text)", "INSERT INTO b VALUES (1, 'start')");
        try (Connection blocker = DriverManager.getConnection(db.url());
             Applier applier = new Applier(db.config().poolSize(3).build(), ApplyListener.NONE)) {
            blocker.setAutoCommit(false);
            try (Statement st = blocker.createStatement()) {
                st.execute("SELECT * FROM b WHERE id = 1 FOR UPDATE"); // GSN 1's helper waits for this lock
            }
            applier.submit(remote(1, "node2", update(B, "1", "v1")));
            awaitTrue("GSN 1 to be taken off the queue", () -> applier.queueDepth() == 0);
            applier.submit(remote(2, "node2", update(B, "1", "v2")));
            awaitTrue("GSN 2 to be taken off the queue (it then waits behind GSN 1)", () -> applier.queueDepth() == 0);
            for (int g = 3; g <= 20; g++) {
                applier.submit(remote(g, "node2", update(B, "1", "v" + g)));
            }
            awaitTrue("GSNs 3..20 to join GSN 2's waiting batch", () -> applier.queueDepth() == 0);
            blocker.rollback();
            applier.awaitApplied(Gsn.of(20), TestDb.WAIT);
            assertThat(applier.transactions()).as("GSN 1, then GSNs 2..20 in one transaction").isEqualTo(2);
        }
        assertThat(db.column("SELECT v FROM b")).containsExactly("v20");
        assertThat(db.watermark()).isEqualTo(Gsn.of(20));
    }

    @Test
    void aDdlStatementInABatchRunsBetweenTheRowsBeforeAndAfterIt() throws Exception {
        TestDb db = TestDb.create(pg, "ddlorder");
        db.exec("CREATE TABLE b (id int PRIMARY KEY, v text)", "INSERT INTO b VALUES (0, 'start')");
        MessageChange snapshot = new MessageChange("chorus_ddl", ("{\"v\":1,\"sql\":\"CREATE TABLE snap AS SELECT * "
                + "FROM b\",\"search_path\":\"public\",\"role\":\"postgres\",\"tag\":\"CREATE TABLE AS\","
                + "\"relations\":[[\"public\",\"snap\"]]}").getBytes(StandardCharsets.UTF_8));
        try (Connection blocker = DriverManager.getConnection(db.url());
             Applier applier = new Applier(db.config().poolSize(3).build(), ApplyListener.NONE)) {
            blocker.setAutoCommit(false);
            try (Statement st = blocker.createStatement()) {
                st.execute("SELECT * FROM b WHERE id = 0 FOR UPDATE");
            }
            applier.submit(remote(1, "node2", update(B, "0", "one")));
            awaitTrue("GSN 1 to be taken off the queue", () -> applier.queueDepth() == 0);
            applier.submit(remote(2, "node2", update(B, "0", "two"), insert(B, "1", "before")));
            awaitTrue("GSN 2 to wait behind GSN 1", () -> applier.queueDepth() == 0);
            applier.submit(remote(3, "node2", snapshot));
            applier.submit(remote(4, "node2", insert(B, "2", "after")));
            awaitTrue("GSNs 3 and 4 to join GSN 2's batch", () -> applier.queueDepth() == 0);
            blocker.rollback();
            applier.awaitApplied(Gsn.of(4), TestDb.WAIT);
        }
        assertThat(db.column("SELECT id || '=' || v FROM snap ORDER BY id")).as("the DDL saw GSN 2, not GSN 4")
                .containsExactly("0=two", "1=before");
        assertThat(db.column("SELECT id || '=' || v FROM b ORDER BY id")).containsExactly("0=two", "1=before", "2=after");
    }

    private static List<RowOrder.Row> rows(RowChange... changes) {
        List<RowOrder.Row> out = new ArrayList<>();
        for (RowChange c : changes) {
            out.add(new RowOrder.Row(null, RowStatement.of(c, keyColumn(c.relation())), false));
        }
        return out;
    }

    private static BitSet keyColumn(Relation r) {
        return RowStatement.keyColumns(r);
    }

    private static List<String> describe(List<RowOrder.Row> rows) {
        List<String> out = new ArrayList<>();
        for (RowOrder.Row r : rows) {
            RowStatement s = r.statement();
            String v = s.op() == io.chorus.changeset.Op.DELETE ? "" : " " + valueOf(s);
            out.add(s.op() + " " + s.relation().table() + " " + s.identity().get(0) + v);
        }
        return out;
    }

    private static String valueOf(RowStatement s) {
        return s.writtenText(1);
    }

    private static void awaitTrue(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 30 s waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // polling a condition with a deadline
        }
    }
}
