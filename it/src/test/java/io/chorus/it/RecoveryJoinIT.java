package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.nio.file.Files;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A third node joins a two-node cluster that holds data while both write: its database has none of the tables, so it
 * gets a full transfer (schema adaption, parallel binary COPY from the donor's snapshot at a GSN boundary), catches up
 * and converges. Reports the longest commit latency a writer saw on the donors during the join.
 */
@Tag("slow")
class RecoveryJoinIT {
    /** Rows (about 300 bytes each) both nodes hold before node3 joins; the 1 GB case is a manual run (bench). */
    private static final long PRELOAD_ROWS = Long.getLong("chorus.recovery.preloadRows", 100_000);

    @Test
    void thirdNodeJoinsByFullTransferWhileBothWrite() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("RecoveryJoinIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        List<Workload> workloads = List.of(new RecoveryLoad(new UniqueInserts(), 25));
        // identical on both nodes, the timestamp included: the copy must equal node1's rows too
        String schema = HarnessIT.schema(workloads) + StallProbe.SCHEMA + JoinerWriteProbe.SCHEMA
                + "INSERT INTO ins_events (id, run, origin, payload, at) SELECT -g, 0, 'preload', repeat(md5(g::text), 8), "
                + "'2026-01-01 00:00:00+00' FROM generate_series(1, " + PRELOAD_ROWS + ") g;\n";
        try (ChorusCluster cluster = ChorusCluster.start(3, 2, "joining", schema, null, "async", java.util.function.UnaryOperator.identity())) {
            WorkloadRunner load = WorkloadRunner.start(1, workloads, cluster::connect, 2, 1, seed, Duration.ofSeconds(240), 1_000_000);
            long joinMillis;
            long stallMillis;
            JoinerWriteProbe joinerWrites;
            try (StallProbe probe = new StallProbe(cluster::connect, 1, 2); JoinerWriteProbe jw = new JoinerWriteProbe(cluster::connect, 3)) {
                joinerWrites = jw;
                Await.committed(load, 200);
                long t0 = System.nanoTime();
                cluster.enableNode(3);
                awaitState(cluster, 3, "ONLINE", Duration.ofSeconds(240 + PRELOAD_ROWS / 5_000)); // 1 GB: 15 min
                joinMillis = (System.nanoTime() - t0) / 1_000_000;
                Await.committed(load, 50); // both nodes still write with node3 in the group
                int before = jw.committed().size();
                io.chorus.it.harness.Await.until("node3's local writes to commit once ONLINE", Duration.ofSeconds(60),
                        () -> jw.committed().size() >= before + 20);
                stallMillis = probe.longestMillis();
                assertThat(probe.error()).as("stall probe").isNull();
                System.out.println("RecoveryJoinIT: node3 ONLINE after " + joinMillis + " ms; longest writer stall on "
                        + "nodes 1-2 during the join " + stallMillis + " ms over " + probe.commits() + " probe commits");
            }
            load.stop();
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            System.out.println(v.describe());
            String log3 = Files.readString(cluster.local().sidecarLog(3));
            for (int donor = 1; donor <= 2; donor++) { // the snapshot moment, as each donor measured it
                Files.readAllLines(cluster.local().sidecarLog(donor)).stream()
                        .filter(l -> l.contains("local writers were held")).forEach(System.out::println);
            }
            log3.lines().filter(l -> l.contains("full transfer from") || l.contains("RECEIVING") || l.contains("ONLINE"))
                    .forEach(System.out::println);
            assertThat(load.errors()).as("writer errors").isEmpty();
            assertThat(v.ok()).as(v.describe()).isTrue();
            assertThat(log3).as("node3 received a full transfer").contains("full transfer from node");
            try (Connection c = cluster.connect(3)) {
                assertThat(Long.parseLong(Sql.one(c, "SELECT count(*) FROM ins_events WHERE origin = 'preload'")))
                        .as("preloaded rows on node3").isEqualTo(PRELOAD_ROWS);
            }
            assertThat(stallMillis).as("longest writer stall during the join (ms)").isLessThan(15_000);
            assertJoinerWritesKeptOrRefused(cluster, joinerWrites);
        }
    }

    /**
     * Local writes on the joiner while it received the transfer were refused with a message that says why, and every
     * one it accepted (before, or once its capture ran again) is on every node, none refused is anywhere.
     */
    private static void assertJoinerWritesKeptOrRefused(ChorusCluster cluster, JoinerWriteProbe probe) throws Exception {
        System.out.println("RecoveryJoinIT: node3's local writes during the join: " + probe.committed().size()
                + " committed, " + probe.refusedIds().size() + " refused, " + probe.otherFailures()
                + " failed otherwise (no table yet); refusal: " + probe.refusal());
        assertThat(probe.refusal()).as("a local write on node3 while it received the transfer")
                .contains("receiving a full state transfer", "joiner_writes");
        probe.phases().stream().sorted().forEach(p -> System.out.println("RecoveryJoinIT: node3 status " + p));
        assertThat(probe.phases()).as("chorus.status() on node3 showed the copy's progress")
                .anySatisfy(p -> assertThat(p).startsWith("RECEIVING: receiving from node")
                        .contains("tables", "rows", " MB", "ETA"));
        String log3 = Files.readString(cluster.local().sidecarLog(3));
        assertThat(log3).as("node3 logged the copy's progress").containsPattern("RECEIVING receiving from node\\d at GSN \\d+: "
                + "\\d+/\\d+ tables, \\d+ rows, [0-9.]+ of ~[0-9.]+ MB, ETA");
        assertThat(log3).as("node3 logged its catch-up").contains("CATCHING_UP done: replayed GSN");
        for (int node = 1; node <= 3; node++) {
            try (Connection c = cluster.connect(node); java.sql.Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT id FROM joiner_writes")) {
                java.util.Set<Long> ids = new java.util.HashSet<>();
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
                assertThat(ids).as("node" + node + " holds every write node3 committed").containsAll(probe.committed());
                assertThat(ids).as("node" + node + " holds no write node3 refused").doesNotContainAnyElementsOf(probe.refusedIds());
            }
        }
    }

    /**
     * Waits for a node's published state, reading chorus.node_state directly (on a loaded machine a sidecar's
     * heartbeat can lag what chorus.wait_ready() tolerates while it is busy copying), and only a state published after
     * this call: after a crash the row still holds what the killed sidecar published last.
     */
    static void awaitState(ChorusCluster cluster, int node, String state, Duration timeout) throws java.sql.SQLException {
        String since;
        try (Connection c = cluster.connect(node)) {
            since = Sql.one(c, "SELECT clock_timestamp()::text");
        }
        io.chorus.it.harness.Await.until("node" + node + " to publish state " + state + " after " + since + " (log "
                + cluster.local().sidecarLog(node) + ")", timeout, () -> {
                    try (Connection c = cluster.connect(node)) {
                        String now = Sql.one(c, "SELECT CASE WHEN heartbeat > '" + since + "'::timestamptz THEN state || ' ' "
                                + "|| coalesce(phase, '') || ' ' || coalesce(last_error, '') ELSE 'STALE' END FROM chorus.node_state");
                        if (now.startsWith("FAILED")) {
                            throw new IllegalStateException("node" + node + " FAILED: " + now);
                        }
                        return now.startsWith(state + " ");
                    }
                });
    }
}
