package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A majority of the voters lost for good (DESIGN §7, issue 7): three nodes replicate, then two of them are destroyed
 * (sidecar killed, PostgreSQL stopped, never started again). The survivor stays NON_PRIMARY; through SQL it is told
 * what a forced bootstrap would do and lose, refused until confirmed, and once confirmed it is ONLINE as the group's
 * only voter: new writes are ordered with GSNs after the old ones, and every row it had is still there.
 */
@Tag("slow")
class ForcedBootstrapIT {
    private static final String SCHEMA = "CREATE TABLE acked (id bigint PRIMARY KEY, node int NOT NULL)";

    @Test
    void theSurvivorOfALostMajorityIsBootstrappedThroughSqlOnceConfirmed() throws Exception {
        try (ChorusCluster cluster = ChorusCluster.start(3, "forced", SCHEMA, null)) {
            writeOnEveryNode(cluster, 20);
            long gsnBefore;
            try (Connection c = cluster.connect(1)) {
                gsnBefore = Sql.number(c, "SELECT chorus.sync_wait()");
            }
            cluster.crash(2, 3);
            Await.until("node1 to be NON_PRIMARY after node2 and node3 were lost", Duration.ofSeconds(60),
                    () -> cluster.status(1).state().equals("NON_PRIMARY"));
            try (Connection c = cluster.connect(1)) {
                // acknowledged locally outside the primary component (policy accept): ordered after the bootstrap
                Sql.exec(c, "INSERT INTO acked VALUES (?, ?)", 1_500L, 1);
                List<String> before = Sql.column(c, "SELECT id FROM acked ORDER BY id");
                assertThat(before).as("node1's rows before the bootstrap").hasSize(61);
                Await.until("node1 to publish its bootstrap plan", Duration.ofSeconds(30),
                        () -> Sql.number(c, "SELECT count(*) FROM chorus.bootstrap_plan()") == 3);
                List<String> plan = Sql.column(c, "SELECT node || ' voting=' || voting || ' present=' || present "
                        + "|| ' W=' || coalesce(watermark::text, '?') || ' log=' || coalesce(log_gsn::text, '?') "
                        + "|| ': ' || fate FROM chorus.bootstrap_plan()");
                System.out.println("ForcedBootstrapIT: plan on node1: " + String.join("\n  ", plan));
                assertThat(plan).hasSize(3);
                assertThat(plan.get(0)).contains("node1 voting=true present=true", "becomes the only voter");
                assertThat(plan.get(1)).contains("node2 voting=true present=false", "removed from the voters");
                assertThat(plan.get(2)).contains("node3 voting=true present=false", "removed from the voters");

                SQLException unconfirmed = refusal(c, "SELECT chorus.force_bootstrap()");
                System.out.println("ForcedBootstrapIT: unconfirmed: " + unconfirmed.getMessage());
                assertThat(unconfirmed.getSQLState()).isEqualTo("55000");
                assertThat(unconfirmed.getMessage()).contains("member node1", "missing voters [node2, node3]",
                        "Nothing was changed", "SELECT chorus.force_bootstrap(confirm => true)");
                assertThat(Sql.one(c, "SELECT state FROM chorus.status()")).as("nothing changed").isEqualTo("NON_PRIMARY");

                String queued = Sql.one(c, "SELECT chorus.force_bootstrap(confirm => true)");
                System.out.println("ForcedBootstrapIT: confirmed: " + queued);
                assertThat(queued).contains("queued as request");
                assertThat(Sql.one(c, "SELECT chorus.wait_ready('ONLINE', '120 s')")).startsWith("ONLINE");
                assertThat(Sql.column(c, "SELECT node FROM chorus.nodes() WHERE voting ORDER BY node"))
                        .as("the voters after the bootstrap").containsExactly("node1");

                Sql.exec(c, "INSERT INTO acked VALUES (?, ?)", 1_501L, 1);
                long gsnAfter = Sql.number(c, "SELECT chorus.sync_wait('60 s')");
                System.out.println("ForcedBootstrapIT: GSN " + gsnBefore + " before the loss, " + gsnAfter + " after");
                assertThat(gsnAfter).as("the group's order continues after the bootstrap").isGreaterThan(gsnBefore);
                Await.until("node1 to have applied GSN " + gsnAfter, Duration.ofSeconds(30),
                        () -> Sql.number(c, "SELECT watermark FROM chorus.status()") >= gsnAfter);
                assertThat(Sql.column(c, "SELECT id FROM acked ORDER BY id")).as("node1's rows after the bootstrap")
                        .containsAll(before).contains("1501").hasSize(62);
                assertThat(Sql.number(c, "SELECT count(*) FROM acked WHERE id IN (1500, 1501)")).isEqualTo(2);

                SQLException again = refusal(c, "SELECT chorus.force_bootstrap(confirm => true)");
                assertThat(again.getMessage()).as("refused inside a primary component")
                        .contains("is in a primary component");
            }
        }
    }

    /**
     * The sidecar flag, for a survivor restarted after the loss: every node crashes, only node1 comes back, with
     * {@code --force-bootstrap}; without a primary component within the wait it bootstraps the group from its log.
     */
    @Test
    void theSidecarFlagBootstrapsARestartedSurvivorWithoutAMajority() throws Exception {
        try (ChorusCluster cluster = ChorusCluster.start(3, "forcedflag", SCHEMA, null)) {
            writeOnEveryNode(cluster, 10);
            long gsnBefore;
            List<String> before;
            try (Connection c = cluster.connect(1)) {
                gsnBefore = Sql.number(c, "SELECT chorus.sync_wait()");
                before = Sql.column(c, "SELECT id FROM acked ORDER BY id");
            }
            cluster.crash(1, 2, 3);
            cluster.local().server(1).start();
            cluster.local().startSidecar(1, "--force-bootstrap", "--force-bootstrap-wait", "5");
            cluster.awaitOnline(1, Duration.ofSeconds(180));
            try (Connection c = cluster.connect(1)) {
                assertThat(Sql.column(c, "SELECT node FROM chorus.nodes() WHERE voting ORDER BY node"))
                        .as("the voters after the bootstrap").containsExactly("node1");
                Sql.exec(c, "INSERT INTO acked VALUES (?, ?)", 1_501L, 1);
                long gsnAfter = Sql.number(c, "SELECT chorus.sync_wait('60 s')");
                System.out.println("ForcedBootstrapIT (flag): GSN " + gsnBefore + " before the loss, " + gsnAfter
                        + " after");
                assertThat(gsnAfter).as("the group's order continues after the bootstrap").isGreaterThan(gsnBefore);
                assertThat(Sql.column(c, "SELECT id FROM acked ORDER BY id")).as("node1's rows after the bootstrap")
                        .containsAll(before).contains("1501").hasSize(before.size() + 1);
            }
            assertThat(java.nio.file.Files.readString(cluster.local().sidecarLog(1))).as("node1's log")
                    .contains("--force-bootstrap runs the forced bootstrap", "forced bootstrap done");
        }
    }

    /** Inserts {@code rows} acknowledged rows on each node, then waits until every node applied all of them. */
    private static void writeOnEveryNode(ChorusCluster cluster, int rows) throws SQLException {
        for (int i = 1; i <= cluster.size(); i++) {
            try (Connection c = cluster.connect(i)) {
                for (int k = 0; k < rows; k++) {
                    Sql.exec(c, "INSERT INTO acked VALUES (?, ?)", i * 1_000L + k, i);
                }
            }
        }
        assertThat(cluster.barrier(Duration.ofSeconds(60))).as("sync_wait failures").isEmpty();
    }

    private static SQLException refusal(Connection c, String sql) {
        SQLException[] caught = {null};
        assertThatThrownBy(() -> {
            try {
                Sql.one(c, sql);
            } catch (SQLException e) {
                caught[0] = e;
                throw e;
            }
        }).isInstanceOf(SQLException.class);
        return caught[0];
    }
}
