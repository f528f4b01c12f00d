package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Sync mode (DESIGN §8) on three real sidecars: a commit returns only once its changeset is ordered, so a single read
 * barrier on another node sees it; without a majority a commit waits, and it completes after the heal.
 */
@Tag("slow")
class SyncModeIT {

    @Test
    void aCommitReturnsOnlyOnceOrderedAndWaitsWithoutAMajority() throws Exception {
        try (ChorusCluster cluster = ChorusCluster.start(3, "syncm",
                "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);\n", null, "sync");
             Connection writer = cluster.connect(1); Connection reader = cluster.connect(2)) {
            assertThat(Sql.one(writer, "SELECT mode || '/' || policy FROM chorus.status()")).isEqualTo("sync/wait");
            for (int i = 1; i <= 25; i++) {
                Sql.exec(writer, "INSERT INTO notes (id, body) VALUES (?, ?)", i, "note " + i);
                // no barrier on node1: its commit returned, so its changeset is already ordered
                Sql.one(reader, "SELECT chorus.sync_wait('30 s')::text");
                assertThat(Sql.column(reader, "SELECT body FROM notes WHERE id = " + i)).as("note %d on node2", i)
                        .containsExactly("note " + i);
            }

            cluster.nodes().killSidecar(2);
            cluster.nodes().killSidecar(3);
            CompletableFuture<Integer> blocked = CompletableFuture.supplyAsync(() -> {
                try (Connection c = cluster.connect(1)) {
                    return Sql.exec(c, "INSERT INTO notes (id, body) VALUES (100, 'written without a majority')");
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                blocked.get(5, TimeUnit.SECONDS);
                throw new AssertionError("a sync commit returned while node1 had no majority");
            } catch (TimeoutException expected) {
                // waiting, as it must
            }
            io.chorus.it.harness.Await.until("node1 to report NON_PRIMARY", Duration.ofSeconds(30),
                    () -> "NON_PRIMARY".equals(Sql.one(writer, "SELECT state FROM chorus.status()")));

            cluster.nodes().startSidecar(2);
            assertThat(blocked.get(120, TimeUnit.SECONDS)).as("the waiting commit completes after the heal").isEqualTo(1);
            cluster.awaitOnline(2, Duration.ofSeconds(120));
            try (Connection n2 = cluster.connect(2)) {
                Sql.one(n2, "SELECT chorus.sync_wait('60 s')::text");
                assertThat(Sql.column(n2, "SELECT body FROM notes WHERE id = 100")).containsExactly("written without a majority");
            }
        }
    }
}
