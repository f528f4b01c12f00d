package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A rollback at the loser's origin (R3) writes the group's version over the row in place. A local transfer whose
 * UPDATE waits for that row's lock must then apply its change to the restored balance: a row deleted and inserted
 * again looks like a concurrent delete to it, its UPDATE finds 0 rows, and the transfer commits with one leg only
 * (the bank's total then ends off on every node, the same way everywhere).
 */
class RestoreInPlaceTest {
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("restoreinplace");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void aLocalUpdateWaitingForARestoredRowAppliesToTheRestoredVersion() throws Exception {
        TestDb db = TestDb.create(pg, "inplace");
        db.exec("CREATE TABLE acc (id int PRIMARY KEY, balance bigint NOT NULL)", "CREATE TABLE slow (id int PRIMARY KEY)",
                // the local, doomed version of account 16; the group's version is 1000
                "INSERT INTO acc VALUES (16, 958), (72, 1000)",
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$",
                "CREATE TRIGGER slow BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION slow()",
                "ALTER TABLE slow ENABLE ALWAYS TRIGGER slow");
        Relation acc = relation("acc", "id", "balance");
        RowChange winner = insert(relation("slow", "id"), "1");
        ApplyUnit unit = new ApplyUnit(Gsn.of(1), Units.gtid("node2", 1), Instant.now(), false,
                List.of(new RestoreRow(acc, List.of("16"), Tuple.ofTexts("16", "1000"))), List.of(winner), List.of(),
                winner.keys());
        try (Applier applier = new Applier(db.config().poolSize(1).build(), ApplyListener.NONE);
             Connection local = DriverManager.getConnection(db.url())) {
            applier.submit(unit);
            long deadline = System.nanoTime() + TestDb.WAIT.toNanos();
            while (db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'inplace_h%' AND "
                    + "wait_event = 'PgSleep'") == 0) {
                assertThat(System.nanoTime()).as("the helper restored account 16 and reached the slow trigger")
                        .isLessThan(deadline);
            }
            CompletableFuture<Integer> transfer = CompletableFuture.supplyAsync(() -> {
                try (PreparedStatement ps = local.prepareStatement("UPDATE acc SET balance = balance - 41 WHERE id = 16")) {
                    return ps.executeUpdate(); // waits for the helper's lock on account 16
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
            assertThat(transfer.get(TestDb.WAIT.toSeconds(), TimeUnit.SECONDS))
                    .as("rows the local UPDATE found once the restore committed").isEqualTo(1);
        }
        assertThat(db.column("SELECT id || ':' || balance FROM acc ORDER BY id")).containsExactly("16:959", "72:1000");
    }
}
