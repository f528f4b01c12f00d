package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Column;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
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
        Relation acc = relation("acc", "id", "balance");
        restoreWhileALocalTransferWaits("inplace", acc, List.of(new RestoreRow(acc, List.of("16"), Tuple.ofTexts("16", "1000"))));
    }

    /**
     * Under REPLICA IDENTITY FULL a row's identity is every column, so the tracker rolls an UPDATE back as "the new
     * version goes, the old one comes back": both are the same primary key, and the row is written over in place.
     */
    @Test
    void underReplicaIdentityFullTheRollbackOfAnUpdateIsWrittenInPlaceToo() throws Exception {
        Relation acc = new Relation(RelationName.of("public", "acc"), 'f', List.of(new Column("id", true, 23, -1),
                new Column("balance", true, 20, -1)));
        restoreWhileALocalTransferWaits("inplacefull", acc, List.of(
                new RestoreRow(acc, List.of("16", "958"), null),
                new RestoreRow(acc, List.of("16", "1000"), Tuple.ofTexts("16", "1000"))));
    }

    private void restoreWhileALocalTransferWaits(String name, Relation acc, List<RestoreRow> restores) throws Exception {
        TestDb db = TestDb.create(pg, name);
        db.exec("CREATE TABLE acc (id int PRIMARY KEY, balance bigint NOT NULL)", "CREATE TABLE slow (id int PRIMARY KEY)",
                // the local, doomed version of account 16; the group's version is 1000
                "INSERT INTO acc VALUES (16, 958), (72, 1000)",
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$",
                "CREATE TRIGGER slow BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION slow()",
                "ALTER TABLE slow ENABLE ALWAYS TRIGGER slow");
        db.exec("ALTER TABLE acc REPLICA IDENTITY " + (acc.replicaIdentity() == 'f' ? "FULL" : "DEFAULT"));
        RowChange winner = insert(relation("slow", "id"), "1");
        ApplyUnit unit = new ApplyUnit(Gsn.of(1), Units.gtid("node2", 1), Instant.now(), false,
                restores, List.of(winner), List.of(),
                winner.keys());
        try (Applier applier = new Applier(db.config().poolSize(1).build(), ApplyListener.NONE);
             Connection local = DriverManager.getConnection(db.url())) {
            applier.submit(unit);
            long deadline = System.nanoTime() + TestDb.WAIT.toNanos();
            while (db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '" + name + "_h%' AND "
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
