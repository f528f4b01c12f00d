package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Nodes of an older history past a forced bootstrap's fork rejoin by themselves (DESIGN §7; the gcs package note
 * has the history design). Three nodes replicate; node1 crashes, node2 and node3 order more (GSNs node1 never knew
 * of), node2 crashes, node3 commits one more row alone (never ordered), node3 crashes. node1 comes back alone and is
 * force-bootstrapped: history 1 forks after its log's last GSN. node2 and node3 restart with their old data and
 * logs: the group refuses them past the fork, and each saves its undelivered local commits, moves its group folder
 * aside, rejoins by a full transfer and ends with node1's data. A node of the current history then restarts normally.
 */
@Tag("slow")
class PastForkRejoinIT {
    private static final String SCHEMA = "CREATE TABLE acked (id bigint PRIMARY KEY, node int NOT NULL)";
    private static final Duration REJOIN = Duration.ofSeconds(300);

    @Test
    void nodesPastTheForkRejoinByAFullTransferAndKeepTheirUnorderedCommits() throws Exception {
        try (ChorusCluster cluster = ChorusCluster.start(3, "pastfork", SCHEMA, null)) {
            writeOnEveryNode(cluster, 10);
            cluster.crash(1);
            Await.until("node2 and node3 to go on without node1", Duration.ofSeconds(60),
                    () -> cluster.status(2).online() && cluster.status(3).online());
            // ordered by node2 and node3 only: GSNs past everything node1 knew of
            insert(cluster, 3, 3_100, 5);
            insert(cluster, 2, 2_100, 3);
            for (int i = 2; i <= 3; i++) {
                try (Connection c = cluster.connect(i)) {
                    Sql.number(c, "SELECT chorus.sync_wait('60 s')");
                }
            }
            cluster.crash(2);
            Await.until("node3 to be NON_PRIMARY alone", Duration.ofSeconds(60),
                    () -> cluster.status(3).state().equals("NON_PRIMARY"));
            insert(cluster, 3, 3_900, 1); // accepted locally outside a primary component: never ordered
            cluster.crash(3);

            cluster.local().server(1).start();
            cluster.local().startSidecar(1, "--force-bootstrap", "--force-bootstrap-wait", "5");
            cluster.awaitOnline(1, Duration.ofSeconds(180));
            insert(cluster, 1, 1_100, 5);
            List<String> node1Rows;
            try (Connection c = cluster.connect(1)) {
                Sql.number(c, "SELECT chorus.sync_wait('60 s')");
                node1Rows = Sql.column(c, "SELECT id || ':' || node FROM acked ORDER BY id");
            }
            assertThat(node1Rows).as("node1's rows in the new history").hasSize(35)
                    .doesNotContain("3100:3", "2100:2", "3900:3");

            cluster.restart(2, 3);
            cluster.awaitOnline(2, REJOIN);
            cluster.awaitOnline(3, REJOIN);
            assertThat(cluster.barrier(Duration.ofSeconds(60))).as("sync_wait failures").isEmpty();
            for (int i = 2; i <= 3; i++) {
                try (Connection c = cluster.connect(i)) {
                    assertThat(Sql.column(c, "SELECT id || ':' || node FROM acked ORDER BY id"))
                            .as("node" + i + "'s rows after its rejoin").isEqualTo(node1Rows);
                }
            }
            try (Connection c = cluster.connect(3)) {
                List<String> saved = Sql.column(c, "SELECT statements || ' / ' || reason FROM chorus.saved_commits "
                        + "ORDER BY id");
                System.out.println("PastForkRejoinIT: node3 saved " + saved);
                assertThat(saved).as("node3's undelivered local commit, saved before the transfer")
                        .anySatisfy(s -> assertThat(s).contains("3900", "past a fork of the group's history"));
                String forked = historyOf(cluster, 1);
                assertThat(forked).as("node1 stores its new history").isNotNull()
                        .isNotEqualTo("00000000-0000-0000-0000-000000000000");
                assertThat(Sql.one(c, "SELECT value FROM chorus.meta WHERE key = 'group_history_id'"))
                        .as("node3's data belongs to node1's new history").isEqualTo(forked);
            }
            for (int i = 2; i <= 3; i++) {
                String why = cluster.status(i).lastError();
                System.out.println("PastForkRejoinIT: node" + i + " status: " + why);
                assertThat(why).as("node" + i + "'s status says why it was copied")
                        .contains("rejoined group", "by a full transfer", "past a fork of the group's history",
                                "member node" + i + " holds history 0 (the group's first) up to GSN",
                                "the old group folder was moved to", "group.past-fork-",
                                "saved in chorus.saved_commits");
                String log = Files.readString(cluster.local().sidecarLog(i));
                assertThat(log).as("node" + i + "'s sidecar log")
                        .contains("refused by group", "past a fork of its history; a full transfer is marked")
                        .contains("of the history before the fork moved to");
            }

            // node2 is of the current history now: a restart is an ordinary one
            int refusalsBefore = count(Files.readString(cluster.local().sidecarLog(2)), "past a fork of its history");
            cluster.crash(2);
            cluster.restart(2);
            cluster.awaitOnline(2, Duration.ofSeconds(180));
            insert(cluster, 2, 2_500, 1);
            assertThat(cluster.barrier(Duration.ofSeconds(60))).as("sync_wait failures").isEmpty();
            assertThat(count(Files.readString(cluster.local().sidecarLog(2)), "past a fork of its history"))
                    .as("node2 was not refused again").isEqualTo(refusalsBefore);
            List<String> after;
            try (Connection c = cluster.connect(1)) {
                after = Sql.column(c, "SELECT id || ':' || node FROM acked ORDER BY id");
            }
            assertThat(after).contains("2500:2").hasSize(36);
            for (int i = 2; i <= 3; i++) {
                try (Connection c = cluster.connect(i)) {
                    assertThat(Sql.column(c, "SELECT id || ':' || node FROM acked ORDER BY id"))
                            .as("node" + i + "'s rows").isEqualTo(after);
                }
            }
        }
    }

    /** The history id node {@code i}'s database stores. */
    private static String historyOf(ChorusCluster cluster, int i) throws SQLException {
        try (Connection c = cluster.connect(i)) {
            return Sql.one(c, "SELECT value FROM chorus.meta WHERE key = 'group_history_id'");
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

    private static void insert(ChorusCluster cluster, int node, long firstId, int rows) throws SQLException {
        try (Connection c = cluster.connect(node)) {
            for (int k = 0; k < rows; k++) {
                Sql.exec(c, "INSERT INTO acked VALUES (?, ?)", firstId + k, node);
            }
        }
    }

    private static void writeOnEveryNode(ChorusCluster cluster, int rows) throws SQLException {
        for (int i = 1; i <= cluster.size(); i++) {
            insert(cluster, i, i * 1_000L, rows);
        }
        assertThat(cluster.barrier(Duration.ofSeconds(60))).as("sync_wait failures").isEmpty();
    }
}
