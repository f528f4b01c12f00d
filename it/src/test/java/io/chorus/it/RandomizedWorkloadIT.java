package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.Bank;
import io.chorus.it.workload.FkChurn;
import io.chorus.it.workload.HotUpdates;
import io.chorus.it.workload.UniqueHandles;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 4's randomized cluster run: three nodes all writing for 60 s (-Dchorus.duration=N to change it) a seeded
 * mix of inserts, updates and deletes on overlapping keys — multi-row bank transfers, a hot set, FK parent/child
 * churn, inserts, renames and deletes on a contended unique index, unique-id inserts — then: identical tables and
 * identical conflict logs on every node, every acknowledged insert present, the bank's total intact, and conflicts
 * actually happened.
 */
@Tag("slow")
class RandomizedWorkloadIT {

    @Test
    void threeNodesWritingOverlappingKeysConvergeWithIdenticalConflicts() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        long seconds = Long.getLong("chorus.duration", 60);
        System.out.println("RandomizedWorkloadIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        UniqueInserts inserts = new UniqueInserts();
        List<Workload> workloads = List.of(new Bank(), new HotUpdates(), new FkChurn(), new UniqueHandles(), inserts);
        try (ChorusCluster cluster = ChorusCluster.start(3, "randomized", HarnessIT.schema(workloads), null)) {
            // at most 1,500 transactions per writer: on an idle machine the writers outrun the appliers many times
            // over, and the verdict's barrier must drain the backlog in bounded time (2,500 per writer made ~28,000
            // GSNs, a third of them conflicts, whose drain outlasted a 120 s barrier on 2 shared cores)
            WorkloadRunner run = WorkloadRunner.start(1, workloads, cluster::connect, 3, 1, seed,
                    Duration.ofSeconds(seconds), 1_500);
            run.await(Duration.ofSeconds(seconds + 120));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(180));
            System.out.println("committed " + run.committed() + ", refused locally " + run.refusedLocally() + "\n" + v.describe());
            assertThat(run.errors()).isEmpty();
            assertThat(v.ok()).as(v.describe()).isTrue();
            try (Connection c = cluster.connect(1)) {
                System.out.println("conflicts by kind: " + Sql.column(c,
                        "SELECT kind || ' ' || count(*) FROM chorus.conflicts GROUP BY kind ORDER BY kind"));
                assertThat(Sql.number(c, "SELECT count(*) FROM chorus.conflicts")).as("the mix made nodes conflict").isPositive();
            }
            assertThat(inserts.acknowledgedCount()).isPositive();
        }
    }
}
