package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static io.chorus.coordinator.apply.Units.remote;
import static io.chorus.coordinator.apply.Units.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Relation;
import io.chorus.testkit.PgServer;
import io.chorus.testkit.PgServer.StopMode;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A crash of PostgreSQL loses the helpers' last commits (they commit with synchronous_commit = off): the applier must
 * notice when it reconnects and stop with {@link LostCommitsException}, never go on above GSNs the database no longer
 * holds. Its own server: the test freezes the WAL writer and crashes the server.
 */
class LostCommitsTest {
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("lostcommits");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void commitsLostInACrashStopTheApplierNamingTheDurableWatermark() throws Exception {
        TestDb db = TestDb.create(pg, "lost");
        db.exec("CREATE TABLE acc (id int PRIMARY KEY, v int)", "CREATE TABLE flush (id int PRIMARY KEY)");
        Relation acc = relation("acc", "id", "v");
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().poolSize(1).maxBatch(1).build(), rec)) {
            applier.submit(remote(1, "node2", insert(acc, "1", "100")));
            applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
            // a synchronous commit flushes the WAL up to it, so GSN 1 is on disk; then nothing writes the WAL out
            db.exec("INSERT INTO flush VALUES (1)");
            long walWriter = db.queryLong("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'");
            signal("STOP", walWriter);
            applier.submit(remote(2, "node2", update(acc, "1", "90")));
            applier.submit(remote(3, "node2", update(acc, "1", "80")));
            applier.awaitApplied(Gsn.of(3), TestDb.WAIT);
            assertThat(db.column("SELECT v::text FROM acc")).as("applied before the crash").containsExactly("80");

            pg.restart(StopMode.IMMEDIATE);
            assertThat(db.watermark()).as("durable W after the crash").isEqualTo(Gsn.of(1));
            assertThat(db.column("SELECT v::text FROM acc")).as("the database after the crash").containsExactly("100");

            applier.submit(remote(4, "node2", update(acc, "1", "70")));
            assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(4), TestDb.WAIT)).isInstanceOf(ChorusException.class);
            assertThat(applier.failure()).isInstanceOf(LostCommitsException.class)
                    .hasMessageContaining("committed every GSN up to 3")
                    .hasMessageContaining("holds them only up to GSN 1")
                    .hasMessageContaining("restarts from W=1");
            assertThat(((LostCommitsException) applier.failure()).durable()).isEqualTo(Gsn.of(1));
            assertThat(applier.failure().isRetriable()).as("a restart of the domain recovers").isTrue();
        }
        assertThat(rec.failure.get()).as("listener told").isInstanceOf(LostCommitsException.class);
        assertThat(db.column("SELECT v::text FROM acc")).as("nothing applied above the lost GSNs").containsExactly("100");
        assertThat(db.watermark()).isEqualTo(Gsn.of(1));
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        assertThat(kill.waitFor(30, TimeUnit.SECONDS)).as("kill -%s %d finished", signal, pid).isTrue();
        assertThat(kill.exitValue()).as("kill -%s %d", signal, pid).isZero();
    }
}
