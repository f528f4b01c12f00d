package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Faults;
import io.chorus.it.workload.Bank;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Check of the harness itself on two nodes: non-conflicting workloads, one helper and one walsender
 * termination, then the full verdict (barrier, ONLINE, identical tables, every acknowledged insert present).
 */
@Tag("slow") // about two minutes on 2 cores: two servers, two sidecar processes, enable, load, verdict
class HarnessIT {

    @Test
    void twoNodesSurviveBackendTerminations() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("HarnessIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        UniqueInserts inserts = new UniqueInserts();
        List<Workload> workloads = List.of(inserts, new Bank());
        try (ChorusCluster cluster = ChorusCluster.start(2, "harness", schema(workloads), null);
             Faults faults = new Faults(cluster)) {
            WorkloadRunner run = WorkloadRunner.start(1, workloads, cluster::connect, 2, 1, seed, Duration.ofSeconds(8), 2_000);
            Await.committed(run, 100);
            assertThat(faults.terminateWalsender(2)).as("walsenders terminated on node2").isPositive();
            Await.committed(run, 200);
            faults.terminateHelpers(1);
            run.await(Duration.ofSeconds(60));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            System.out.println(v.describe());
            assertThat(run.errors()).isEmpty();
            assertThat(inserts.acknowledgedCount()).isPositive();
            assertThat(v.ok()).as(v.describe()).isTrue();
        }
    }

    static String schema(List<Workload> workloads) {
        return String.join("\n", workloads.stream().map(Workload::schema).toList());
    }
}
