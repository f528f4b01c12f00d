package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import java.nio.file.Files;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The restart schema check (DESIGN §6) in sync mode (DESIGN §8), where the slot lets go of this node's own changeset at
 * its delivery, before its apply: node1's sidecar is killed (SIGKILL) after its own DDL was ordered and its commit
 * returned, while the helper that would pass that DDL and record the schema at its GSN is held on a row lock. The
 * restart finds the DDL in the database, above W and no longer in the slot; it is the group's DDL, so node1 must come
 * back ONLINE by itself (it used to be refused at every back-off retry, naming the new column), then apply what the
 * group wrote meanwhile, with the same schema and rows as the others.
 *
 * <p>The restart also gets back, as pending changesets, the own changesets released from the slot at their delivery
 * above W (the DDL and the insert after it): without them every back-off retry failed with "own changeset node1:...
 * delivered at GSN 2 but the oldest pending changeset is none" (PendingTracker). They come from the sidecar's durable
 * copy ({@code OwnReleases}), so the log says how many were taken.
 */
@Tag("slow")
class SchemaCheckSyncIT {
    private static final String SCHEMA = SchemaCheckIT.SCHEMA;
    private static final Duration BARRIER = SchemaCheckIT.BARRIER;

    @Test
    void ownDdlOrderedButNotAppliedBeforeAKillIsTheGroupsAtRestart() throws Exception {
        try (ChorusCluster cluster = ChorusCluster.start(3, "schemasync", SCHEMA, null, "sync");
             Connection holder = cluster.connect(1)) {
            // node1's helpers record the schema at each DDL's GSN in this row: holding it holds node1's W below the DDL
            holder.setAutoCommit(false);
            Sql.one(holder, "SELECT key FROM chorus.meta WHERE key = 'schema_at_w' FOR UPDATE");
            String holderPid = Sql.one(holder, "SELECT pg_backend_pid()::text");
            try (Connection c = cluster.connect(1)) {
                Sql.exec(c, "ALTER TABLE items ADD COLUMN note text"); // sync: returns once ordered (slot confirmed)
                Sql.exec(c, "INSERT INTO items (id, label, note) SELECT g, 'item ' || g, 'node1 after its DDL' "
                        + "FROM generate_series(101, 120) g");
            }
            Await.until("node1's helper to wait for the schema_at_w row while passing its own DDL", Duration.ofSeconds(60),
                    () -> Sql.number(holder, "SELECT count(*) FROM pg_stat_activity WHERE " + holderPid
                            + " = ANY(pg_blocking_pids(pid))") > 0);
            try (Connection c = cluster.connect(2)) {
                Sql.one(c, "SELECT chorus.sync_wait('60 s')::text");
                Sql.exec(c, "INSERT INTO items (id, label, note) SELECT g, 'item ' || g, 'node2 after the DDL' "
                        + "FROM generate_series(121, 140) g");
            }

            cluster.nodes().killSidecar(1);
            // the killed helper's transaction must not commit once the row is free: end its backend first
            Sql.one(holder, "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity WHERE " + holderPid
                    + " = ANY(pg_blocking_pids(pid))");
            holder.rollback();
            holder.setAutoCommit(true);
            assertThat(Sql.one(holder, "SELECT value FROM chorus.meta WHERE key = 'schema_at_w'"))
                    .as("node1's recorded schema at W: the window was hit (W below the DDL)").doesNotContain("\"note\"");
            assertThat(Sql.one(holder, "SELECT count(*) FROM items WHERE id > 120")).as("node2's rows on node1 before "
                    + "the restart").isEqualTo("0");

            cluster.nodes().startSidecar(1);
            cluster.awaitOnline(1, Duration.ofSeconds(180));
            String log = Files.readString(cluster.local().sidecarLog(1));
            assertThat(log).as("node1's log").contains("is not applied here yet").doesNotContain("differs from the group's")
                    .contains("released from the slot at their delivery above W are pending again from their copy")
                    .doesNotContain("but the oldest pending changeset is");

            assertThat(cluster.barrier(BARRIER)).as("barrier after node1's restart").isEmpty();
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(), Duration.ofSeconds(60));
            assertThat(v.ok()).as(v.describe()).isTrue();
            for (int i = 1; i <= 3; i++) {
                try (Connection c = cluster.connect(i)) {
                    assertThat(Sql.one(c, "SELECT count(*) FILTER (WHERE note IS NOT NULL) || '/' || count(*) FROM items"))
                            .as("rows with a note / rows on node%d", i).isEqualTo("40/140");
                    assertThat(Sql.one(c, "SELECT chorus.schema_fingerprint()")).as("node%d's fingerprint", i)
                            .isEqualTo(fingerprint(cluster));
                }
            }
            // the next restart compares with the schema recorded when the DDL was passed after the restart
            cluster.nodes().killSidecar(1);
            cluster.nodes().startSidecar(1);
            cluster.awaitOnline(1, Duration.ofSeconds(180));
            assertThat(Files.readString(cluster.local().sidecarLog(1))).as("node1's log after a second restart")
                    .contains("schema unchanged since GSN");
        }
    }

    private static String fingerprint(ChorusCluster cluster) throws java.sql.SQLException {
        try (Connection c = cluster.connect(1)) {
            return Sql.one(c, "SELECT chorus.schema_fingerprint()");
        }
    }
}
