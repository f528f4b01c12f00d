package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Faults;
import io.chorus.it.harness.NetNamespaces;
import io.chorus.it.workload.Bank;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Five nodes, every sidecar in its own network namespace, partitioned 3|2 while every node writes (async mode
 * accepts local writes on both sides), healed, then converged with every acknowledged insert on every node.
 */
@Tag("slow")
class PartitionIT {

    @Test
    void fiveNodesPartitionedThreeTwoHealAndConverge() throws Exception {
        String why = NetNamespaces.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("PartitionIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        UniqueInserts inserts = new UniqueInserts();
        List<Workload> workloads = List.of(inserts, new Bank());
        try (NetNamespaces net = NetNamespaces.create(5);
             ChorusCluster cluster = ChorusCluster.start(5, "part", HarnessIT.schema(workloads), net);
             Faults faults = new Faults(cluster)) {
            // at most 1,000 per writer: a fast machine must not run out of transactions before the partition's share
            WorkloadRunner load = WorkloadRunner.start(1, workloads, cluster::connect, 5, 1, seed, Duration.ofSeconds(20), 1_000);
            Await.committed(load, 150);
            faults.partition(List.of(1, 2, 3), List.of(4, 5));
            Await.committed(load, 500);
            faults.heal();
            load.await(Duration.ofSeconds(90));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            System.out.println("partition 3|2: committed " + load.committed() + ", acknowledged inserts "
                    + inserts.acknowledgedCount() + "\n" + v.describe());
            assertThat(load.errors()).isEmpty();
            assertThat(v.ok()).as(v.describe()).isTrue();
        }
    }
}
