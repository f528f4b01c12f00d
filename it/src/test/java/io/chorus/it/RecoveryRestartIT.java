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
            cluster.restart(3, 1, 2);
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
        }
    }
}
