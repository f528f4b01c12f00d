package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The SQL control surface against live sidecars (three real sidecar processes): what a DBA sees in psql. The cases
 * share one cluster and run in order, because the later ones take node3 out of the group and stop node2's sidecar.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SqlSurfaceIT {
    private final UniqueInserts inserts = new UniqueInserts();
    private final List<Workload> workloads = List.of(inserts);
    private ChorusCluster cluster;

    @BeforeAll
    void start() throws SQLException {
        cluster = ChorusCluster.start(3, "surface", HarnessIT.schema(workloads)
                + "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);\n", null);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void statusAndNodesDescribeTheGroupOnEveryNode() throws SQLException {
        for (int i = 1; i <= 3; i++) {
            try (Connection c = cluster.connect(i); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT node, group_name, state, is_primary, members, sidecar_age_s, last_error "
                         + "FROM chorus.status()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("group_name")).as("node%d group", i).isEqualTo(cluster.nodes().group());
                assertThat(rs.getString("state")).as("node%d state", i).isEqualTo("ONLINE");
                assertThat(rs.getBoolean("is_primary")).as("node%d primary", i).isTrue();
                assertThat(rs.getInt("members")).as("node%d members", i).isEqualTo(3);
                assertThat(rs.getDouble("sidecar_age_s")).as("node%d heartbeat age", i).isLessThan(5.0);
                assertThat(rs.getString("last_error")).as("node%d last error", i).isNull();
                String self = rs.getString("node");
                assertThat(Sql.column(c, "SELECT node FROM chorus.nodes() ORDER BY node")).as("node%d's members", i).hasSize(3);
                assertThat(Sql.column(c, "SELECT node FROM chorus.nodes() WHERE is_self")).as("node%d's self row", i)
                        .containsExactly(self);
                assertThat(Sql.number(c, "SELECT count(*) FROM chorus.nodes() WHERE is_leader")).as("node%d sees one leader", i)
                        .isEqualTo(1);
            }
        }
    }

    @Test
    @Order(2)
    void syncWaitMakesAnotherNodesCommitVisible() throws SQLException {
        try (Connection writer = cluster.connect(1); Connection reader = cluster.connect(2)) {
            long lastGsn = 0;
            for (int i = 1; i <= 25; i++) {
                Sql.exec(writer, "INSERT INTO notes (id, body) VALUES (?, ?)", i, "note " + i);
                // async mode: node1's commit returns before its changeset is ordered; a barrier on node1 returns once
                // it is (node1's capture orders its commits and its barrier in WAL order), then node2's barrier is
                // ordered after it
                long ordered = Sql.number(writer, "SELECT chorus.sync_wait('30 s')");
                long gsn = Sql.number(reader, "SELECT chorus.sync_wait('30 s')");
                assertThat(gsn).as("node2's barrier is ordered after node1's").isGreaterThan(ordered);
                assertThat(gsn).as("barrier GSNs grow").isGreaterThan(lastGsn);
                lastGsn = gsn;
                assertThat(Sql.column(reader, "SELECT body FROM notes WHERE id = " + i)).as("note %d on node2 right after sync_wait", i)
                        .containsExactly("note " + i);
            }
        }
    }

    @Test
    @Order(3)
    void disableUnderLoadLeavesTheOthersReplicating() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("SqlSurfaceIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        WorkloadRunner run = WorkloadRunner.start(1, workloads, cluster::connect, 3, 1, seed, Duration.ofSeconds(10), 3_000);
        Await.committed(run, 150);
        try (Connection c = cluster.connect(3)) {
            assertThat(Sql.one(c, "SELECT chorus.disable()")).contains("disable queued");
        }
        try (Connection c = cluster.connect(3)) {
            assertThat(Sql.one(c, "SELECT chorus.wait_ready('OFFLINE', '30 s')")).startsWith("OFFLINE");
            assertThat(Sql.one(c, "SELECT state FROM chorus.status()")).isEqualTo("OFFLINE");
            assertThat(Sql.number(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'chorus_surface'"))
                    .as("node3's slot is dropped").isZero();
            assertThatThrownBy(() -> Sql.one(c, "SELECT chorus.sync_wait('5 s')"))
                    .hasMessageContaining("not replicating").hasMessageContaining("chorus.enable");
        }
        run.await(Duration.ofSeconds(60));
        assertThat(run.errors()).as("writers on every node, node3 included, keep committing").isEmpty();
        for (int i = 1; i <= 2; i++) {
            try (Connection c = cluster.connect(i)) {
                Sql.one(c, "SELECT chorus.sync_wait('60 s')::text");
                Sql.one(c, "SELECT chorus.sync_wait('60 s')::text");
                assertThat(Sql.one(c, "SELECT state FROM chorus.status()")).as("node%d state", i).isEqualTo("ONLINE");
            }
        }
        try (Connection n1 = cluster.connect(1); Connection n2 = cluster.connect(2)) {
            String digest = "SELECT count(*) || ':' || coalesce(md5(string_agg(id || '/' || origin || '/' || payload, ',' ORDER BY id)), '-') "
                    + "FROM ins_events";
            assertThat(Sql.one(n2, digest)).as("node1 and node2 identical after node3 left").isEqualTo(Sql.one(n1, digest));
            long fromOthers = Sql.number(n1, "SELECT count(*) FROM ins_events WHERE origin IN ('node1', 'node2')");
            long fromNode3 = Sql.number(n1, "SELECT count(*) FROM ins_events WHERE origin = 'node3'");
            System.out.println("after disable: node1/node2 rows " + fromOthers + ", node3's rows they hold " + fromNode3);
            assertThat(fromNode3).as("node3's commits before the disable reached the others").isPositive();
        }
    }

    @Test
    @Order(4)
    void enableOfAGroupNobodyServesReportsThePhaseAndGivesUp() throws SQLException {
        try (Connection c = cluster.connect(3)) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> Sql.exec(c, "CALL chorus.enable_and_wait('nosuchgroup', timeout => '8 s')"))
                    .isInstanceOf(SQLException.class)
                    // alone, the node waits in NON_PRIMARY or, joining, in CATCHING_UP for a primary component
                    .hasMessageContaining("not ONLINE after 00:00:08 in group nosuchgroup; state ")
                    .hasMessageContaining("this node reaches 1 of 3 voting members of group nosuchgroup")
                    .hasMessageContaining("unreachable: node1@")
                    .satisfies(e -> System.out.println("enable of an unserved group: " + e.getMessage()));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("wait_ready honours its timeout").isLessThan(Duration.ofSeconds(30));
            Sql.one(c, "SELECT chorus.disable()");
        }
        try (Connection c = cluster.connect(3)) {
            assertThat(Sql.one(c, "SELECT chorus.wait_ready('OFFLINE', '30 s')")).startsWith("OFFLINE");
        }
    }

    @Test
    @Order(5)
    void aStoppedSidecarIsNamedByEveryFunctionThatNeedsIt() throws Exception {
        cluster.nodes().killSidecar(2);
        try (Connection c = cluster.connect(2)) {
            io.chorus.it.harness.Await.until("node2's status to report the missing sidecar", Duration.ofSeconds(45),
                    () -> "FAILED".equals(Sql.one(c, "SELECT state FROM chorus.status()")));
            assertThat(Sql.one(c, "SELECT phase FROM chorus.status()")).isEqualTo("sidecar not running");
            assertThat(Sql.one(c, "SELECT last_error FROM chorus.status()")).contains("no Chorus sidecar is serving database surface");
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> Sql.one(c, "SELECT chorus.sync_wait('20 s')"))
                    .hasMessageContaining("no Chorus sidecar is serving database surface")
                    .hasMessageContaining("./chorus run --config");
            assertThatThrownBy(() -> Sql.one(c, "SELECT chorus.wait_ready('ONLINE', '20 s')"))
                    .hasMessageContaining("no Chorus sidecar is serving database surface");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("both answer at once, not after their timeout")
                    .isLessThan(Duration.ofSeconds(10));
        }
        // the sidecar picks up where it left: the database is still enabled, so it rejoins without a new enable
        cluster.nodes().startSidecar(2);
        // awaitOnline first waits for the new sidecar's heartbeat, then for ONLINE
        cluster.awaitOnline(2, Duration.ofSeconds(120));
        try (Connection n1 = cluster.connect(1); Connection n2 = cluster.connect(2)) {
            Sql.exec(n1, "INSERT INTO notes (id, body) VALUES (1000, 'after node2 came back')");
            Sql.one(n2, "SELECT chorus.sync_wait('60 s')::text");
            assertThat(Sql.column(n2, "SELECT body FROM notes WHERE id = 1000")).containsExactly("after node2 came back");
        }
    }
}
