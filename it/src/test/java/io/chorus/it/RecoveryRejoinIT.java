package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import io.chorus.testkit.PgServer;
import java.nio.file.Files;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A node that crashes (kill -9 of its sidecar, immediate stop of its PostgreSQL) for 30 s while the others write
 * comes back: from the group's log when the log still holds what it missed (incremental: no full transfer), by a full
 * transfer when the log was compacted past it (retention by age set to a few seconds). Both end converged with every
 * acknowledged insert on every node; after the full transfer, {@code chorus.saved_commits} holds exactly the
 * acknowledged local commits of the crashed node that the group never ordered.
 */
@Tag("slow")
class RecoveryRejoinIT {
    private static final Duration DOWN = Duration.ofSeconds(30);
    private static final Pattern SAVED_PROBE = Pattern.compile("\"rejoin_probe\" \\(\"id\"\\) VALUES \\('(\\d+)'\\)");

    @Test
    void crashedNodeCatchesUpFromTheLog() throws Exception {
        String log = rejoin("rejoin", UnaryOperator.identity(), false);
        assertThat(log).as("node3 rejoined from the log").doesNotContain("full transfer from node");
    }

    @Test
    void crashedNodePastRetentionRejoinsByFullTransfer() throws Exception {
        String log = rejoin("retention", s -> s.replace("group:\n", "group:\n  retentionAge: 20s\n"), true);
        assertThat(log).as("node3 needed a full transfer").contains("it needs a full state transfer");
        assertThat(log).as("node3 rejoined by full transfer").contains("full transfer from node");
    }

    private String rejoin(String database, UnaryOperator<String> config, boolean pastRetention) throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("RecoveryRejoinIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ") " + database);
        List<Workload> workloads = List.of(new RecoveryLoad(new UniqueInserts(), 25));
        String schema = HarnessIT.schema(workloads) + "CREATE TABLE rejoin_probe (id bigint PRIMARY KEY);\n";
        try (ChorusCluster cluster = ChorusCluster.start(3, 3, database, schema, null, "async", config)) {
            // past the retention node3's unordered commits are saved, not replicated: it writes only to the probe then
            int writers = pastRetention ? 2 : 3;
            WorkloadRunner load = WorkloadRunner.start(1, workloads, cluster::connect, writers, 1, seed, Duration.ofSeconds(300), 1_000_000);
            Set<Long> probeAcked;
            try (AckedInserts probe = new AckedInserts(cluster, 3)) {
                Await.committed(load, 100);
                probe.awaitAcked(200);
                probeAcked = probe.stop();
            }
            crash(cluster, 3);
            cluster.local().startSidecar(3);
            RecoveryJoinIT.awaitState(cluster, 3, "ONLINE", Duration.ofSeconds(240));
            Await.committed(load, 50);
            load.stop();
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            System.out.println(database + ": " + v.describe());
            assertThat(load.errors()).as("writer errors").isEmpty();
            assertThat(v.ok()).as(v.describe()).isTrue();
            checkProbe(cluster, probeAcked, pastRetention, database);
            return Files.readString(cluster.local().sidecarLog(3));
        }
    }

    /** kill -9 of the sidecar and an immediate stop of PostgreSQL; both stay down for {@link #DOWN}. */
    private static void crash(ChorusCluster cluster, int node) throws Exception {
        cluster.local().killSidecar(node);
        PgServer pg = cluster.local().server(node);
        pg.stop(PgServer.StopMode.IMMEDIATE);
        long downUntil = System.nanoTime() + DOWN.toNanos();
        io.chorus.it.harness.Await.until("node" + node + " to stay down for " + DOWN.toSeconds() + " s while the others write",
                DOWN.plusSeconds(10), () -> System.nanoTime() >= downUntil);
        pg.start();
    }

    /**
     * The crashed node's acknowledged probe rows are on every node (incremental), or, past the retention, each either
     * on every node or saved: saved_commits holds none the group ordered (no saved row exists in the data) and nothing
     * that was not acknowledged.
     */
    private static void checkProbe(ChorusCluster cluster, Set<Long> acked, boolean pastRetention, String database)
            throws Exception {
        Set<Long> present = new HashSet<>();
        Set<Long> saved = new HashSet<>();
        try (Connection c = cluster.connect(3)) {
            Sql.column(c, "SELECT id FROM rejoin_probe").forEach(id -> present.add(Long.parseLong(id)));
            for (String statements : Sql.column(c, "SELECT statements FROM chorus.saved_commits")) {
                Matcher m = SAVED_PROBE.matcher(statements);
                while (m.find()) {
                    saved.add(Long.parseLong(m.group(1)));
                }
            }
        }
        System.out.println(database + ": node3 probe rows acknowledged " + acked.size() + ", replicated "
                + present.size() + ", saved as never ordered " + saved.size());
        Set<Long> both = new HashSet<>(saved);
        both.retainAll(present);
        assertThat(both).as("saved commits the group had ordered (in the data and in chorus.saved_commits)").isEmpty();
        assertThat(acked).as("acknowledged rows of node3 that the group did not order (saved)").containsAll(saved);
        Set<Long> missing = new HashSet<>(acked);
        missing.removeAll(present);
        missing.removeAll(saved);
        assertThat(missing).as("acknowledged rows of node3 neither replicated nor saved").isEmpty();
        if (!pastRetention) {
            assertThat(saved).as("saved commits after an incremental rejoin").isEmpty();
        }
    }

    /** One writer inserting single rows into {@code rejoin_probe} on one node; remembers the acknowledged ids. */
    private static final class AckedInserts implements AutoCloseable {
        private final Set<Long> acked = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        private final Thread thread;
        private volatile String error;

        AckedInserts(ChorusCluster cluster, int node) {
            thread = new Thread(() -> run(cluster, node), "rejoin-probe-node" + node);
            thread.setDaemon(true);
            thread.start();
        }

        private void run(ChorusCluster cluster, int node) {
            try (Connection c = cluster.connect(node);
                 java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO rejoin_probe (id) VALUES (?)")) {
                for (long id = node * 1_000_000_000L + 1; running.get(); id++) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                    acked.add(id);
                    java.util.concurrent.locks.LockSupport.parkNanos(5_000_000); // a steady writer, not a flood
                }
            } catch (java.sql.SQLException e) {
                error = "[" + e.getSQLState() + "] " + e.getMessage();
            }
        }

        void awaitAcked(int n) {
            io.chorus.it.harness.Await.until(n + " acknowledged probe inserts", Duration.ofSeconds(60), () -> {
                if (error != null) {
                    throw new IllegalStateException("probe writer failed: " + error);
                }
                return acked.size() >= n;
            });
        }

        /** Stops the writer and returns what was acknowledged (nothing is in doubt: it stops between commits). */
        Set<Long> stop() throws InterruptedException {
            running.set(false);
            thread.join(30_000);
            assertThat(thread.isAlive()).as("probe writer stopped within 30 s").isFalse();
            assertThat(error).as("probe writer error").isNull();
            return Set.copyOf(acked);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(30_000);
        }
    }
}
