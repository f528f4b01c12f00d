package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Whole-cluster stop and restart (DESIGN §7): every node crashes under load (kill -9 of its sidecar, immediate stop
 * of its PostgreSQL), one after the other, and the nodes come back in another order. Each member's copy of the group
 * log survives on disk, so the group restarts from the most complete log a majority holds (the highest W); every
 * node replays from its own W. Afterwards: no acknowledged insert is lost, no node's W went back, the nodes converge.
 */
@Tag("slow")
class RecoveryRestartIT {

    /** Waits until node {@code i} says, in chorus.status()'s phase, that it waits for a primary component. */
    private static String awaitWaiting(ChorusCluster cluster, int i, Duration timeout) {
        String[] seen = {null};
        io.chorus.it.harness.Await.until("node" + i + " to say in chorus.status() that it waits for a primary component",
                timeout, () -> {
                    try (java.sql.Connection c = cluster.connect(i)) {
                        seen[0] = io.chorus.it.harness.Sql.one(c, "SELECT state || ': ' || coalesce(phase, '') FROM chorus.status()");
                        return seen[0].contains("waiting for a primary component");
                    } catch (java.sql.SQLException e) {
                        return false; // PostgreSQL still starting
                    }
                });
        return seen[0];
    }

    @Test
    void wholeClusterCrashesUnderLoadAndRestartsInAnotherOrder() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("RecoveryRestartIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        List<Workload> workloads = List.of(new RecoveryLoad(new UniqueInserts(), 25));
        try (ChorusCluster cluster = ChorusCluster.start(3, "restart", HarnessIT.schema(workloads), null)) {
            WorkloadRunner load = WorkloadRunner.start(1, workloads, cluster::connect, 3, 1, seed, Duration.ofSeconds(300), 1_000_000);
            Await.committed(load, 300);
            long[] before = new long[4];
            for (int i = 1; i <= 3; i++) {
                before[i] = cluster.status(i).watermark();
            }
            cluster.crash(1, 2, 3);
            long atStop = load.committed();
            cluster.restart(3);
            String waiting = awaitWaiting(cluster, 3, Duration.ofSeconds(180));
            System.out.println("RecoveryRestartIT: node3 alone: " + waiting);
            assertThat(waiting).as("node3 alone names the voters it waits for and the W it has seen")
                    .contains("waiting for [node1, node2]", "highest W seen", "node3=");
            assertThat(java.nio.file.Files.readString(cluster.local().sidecarLog(3))).as("node3's log")
                    .contains("watermark exchange: waiting for a primary component");
            cluster.restart(1, 2);
            for (int i : new int[] {3, 1, 2}) {
                cluster.awaitOnline(i, Duration.ofSeconds(180));
            }
            Await.committed(load, 100); // the writers reconnected and commit again
            load.stop();
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            System.out.println("RecoveryRestartIT: " + atStop + " transactions acknowledged before the stop, "
                    + load.committed() + " in all, " + load.inDoubt() + " in doubt; " + v.describe());
            assertThat(load.errors()).as("writer errors").isEmpty();
            assertThat(v.ok()).as(v.describe()).isTrue();
            for (int i = 1; i <= 3; i++) {
                assertThat(cluster.status(i).watermark()).as("node%d's W after the restart", i).isGreaterThan(before[i]);
            }
            try (java.sql.Connection c = cluster.connect(1)) {
                List<String> announced = io.chorus.it.harness.Sql.column(c,
                        "SELECT node || '=' || watermark FROM chorus.nodes() WHERE watermark IS NOT NULL ORDER BY node");
                System.out.println("RecoveryRestartIT: W announced, as node1 sees them: " + announced);
                assertThat(announced).as("every member's announced W in node1's chorus.nodes()").hasSize(3);
            }
        }
    }
}
