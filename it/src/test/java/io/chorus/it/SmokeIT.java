package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fast-tier smoke test of the harness and the product: three nodes, every node inserting rows with unique ids for
 * 6 s, no faults; afterwards every node ONLINE, identical tables and every acknowledged insert on every node.
 */
class SmokeIT {

    @Test
    void threeNodesInsertingConverge() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("SmokeIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        UniqueInserts inserts = new UniqueInserts();
        List<Workload> workloads = List.of(inserts);
        try (ChorusCluster cluster = ChorusCluster.start(3, "smoke", HarnessIT.schema(workloads), null)) {
            WorkloadRunner run = WorkloadRunner.start(1, workloads, cluster::connect, 3, 1, seed, Duration.ofSeconds(6), 5_000);
            run.await(Duration.ofSeconds(60));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            System.out.println("committed " + run.committed() + "\n" + v.describe());
            assertThat(run.errors()).isEmpty();
            assertThat(inserts.acknowledgedCount()).isGreaterThan(100);
            assertThat(v.ok()).as(v.describe()).isTrue();
            assertThat(v.rowsPerTable()).containsEntry("public.ins_events", (long) inserts.acknowledgedCount());
        }
    }
}
