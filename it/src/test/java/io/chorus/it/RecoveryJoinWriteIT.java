package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A node that joined by full transfer writes at once, while the others are idle: its first local commits carry the
 * transfer's GSN as their deps (its helper origins' progress, where the capture's new slot starts its deps), so they
 * are certified like any other and applied everywhere. (The new slot used to start its deps at 0 until the first helper
 * commit was decoded: below the group's low mark such a commit loses as uncertifiable, and a restart could not rebuild
 * the pending rows from a log that starts at the transfer's GSN.)
 */
@Tag("slow")
class RecoveryJoinWriteIT {

    @Test
    void aJoinersFirstWritesAreCertifiedAndReplicated() throws Exception {
        String schema = "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);\n"
                + "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 200) g;\n";
        try (ChorusCluster cluster = ChorusCluster.start(3, 2, "joinwrite", schema, null, "async", s -> s)) {
            try (Connection c = cluster.connect(1)) {
                for (int i = 1; i <= 300; i++) {
                    Sql.exec(c, "UPDATE items SET label = ? WHERE id = ?", "node1 #" + i, 1 + i % 200);
                }
                Sql.one(c, "SELECT chorus.sync_wait()::text");
            }
            long before;
            try (Connection c = cluster.connect(3)) {
                io.chorus.it.harness.Await.until("node3's sidecar to install the chorus schema", Duration.ofSeconds(90),
                        () -> "true".equals(Sql.one(c, "SELECT (to_regclass('chorus.meta') IS NOT NULL AND "
                                + "coalesce(chorus._sidecar_age() < 5, false))::text")));
                Sql.one(c, "SELECT chorus.enable('" + cluster.local().group() + "')::text");
            }
            RecoveryJoinIT.awaitState(cluster, 3, "ONLINE", Duration.ofSeconds(180));
            try (Connection c = cluster.connect(3)) {
                String transferred = java.nio.file.Files.readString(cluster.local().sidecarLog(3));
                java.util.regex.Matcher w = java.util.regex.Pattern.compile("full transfer from \\S+ done: W = (\\d+)")
                        .matcher(transferred);
                assertThat(w.find()).as("node3's log names the transfer's W").isTrue();
                java.util.regex.Matcher deps = java.util.regex.Pattern.compile("streaming slot \\S+ from \\S+ with deps "
                        + "(\\d+)").matcher(transferred.substring(w.end()));
                assertThat(deps.find()).as("node3's capture started after the transfer").isTrue();
                assertThat(deps.group(1)).as("the deps node3's new slot starts with (the transfer's W)")
                        .isEqualTo(w.group(1));
                before = Sql.number(c, "SELECT count(*) FROM chorus.conflicts");
                // every member reported a watermark above 0: the certifier's low mark is above 0 everywhere
                io.chorus.it.harness.Await.until("every node's watermark above GSN 300 as node3 sees it",
                        Duration.ofSeconds(60), () -> Sql.number(c, "SELECT count(*) FROM chorus.nodes() "
                                + "WHERE watermark > 300") >= 3);
                Sql.exec(c, "UPDATE items SET label = 'written on node3' WHERE id = 7");
                Sql.exec(c, "INSERT INTO items VALUES (1000, 'inserted on node3')");
                Sql.one(c, "SELECT chorus.sync_wait()::text");
            }
            for (int n = 1; n <= 3; n++) {
                try (Connection c = cluster.connect(n)) {
                    Sql.one(c, "SELECT chorus.sync_wait()::text");
                    assertThat(Sql.one(c, "SELECT string_agg(id || '=' || label, ', ' ORDER BY id) FROM items "
                            + "WHERE id IN (7, 1000)")).as("node3's first writes on node%d", n)
                            .isEqualTo("7=written on node3, 1000=inserted on node3");
                    assertThat(Sql.column(c, "SELECT kind || ' ' || relation || ' ' || key FROM chorus.conflicts"))
                            .as("conflicts recorded on node%d", n).hasSize((int) before);
                }
            }
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(), Duration.ofSeconds(60));
            assertThat(v.ok()).as(v.describe()).isTrue();
        }
    }
}
