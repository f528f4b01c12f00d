package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.ClusterNodes;
import io.chorus.it.harness.Faults;
import io.chorus.it.workload.HotUpdates;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import io.chorus.testkit.PgServer.StopMode;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The container backend end to end: three nodes as PostgreSQL and sidecar containers on a Docker network, writing
 * on every node through a sidecar crash, a frozen sidecar and a PostgreSQL fast restart, then the full verdict. The
 * other cluster suites run on this backend with the same property; they need no Docker by default.
 */
@Tag("slow")
@EnabledIfSystemProperty(named = ClusterNodes.BACKEND_PROPERTY, matches = "containers",
        disabledReason = "runs on the container backend: -Dchorus.backend=containers on a host with a Docker engine")
class ContainerBackendIT {

    @Test
    void threeContainerNodesConvergeThroughFaults() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("ContainerBackendIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        UniqueInserts inserts = new UniqueInserts();
        List<Workload> workloads = List.of(inserts, new HotUpdates());
        try (ChorusCluster cluster = ChorusCluster.start(3, "boxes", HarnessIT.schema(workloads), null);
             Faults faults = new Faults(cluster)) {
            WorkloadRunner run = WorkloadRunner.start(1, workloads, cluster::connect, 3, 1, seed, Duration.ofSeconds(60), 1_500);
            Await.committed(run, 100);
            faults.crashAndRestartSidecar(2);
            cluster.nodes().pauseSidecar(3);
            Await.committed(run, 300);
            cluster.nodes().resumeSidecar(3);
            faults.restartPostgres(1, StopMode.FAST);
            run.await(Duration.ofSeconds(120));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(120));
            System.out.println(v.describe());
            assertThat(inserts.acknowledgedCount()).as("acknowledged inserts").isPositive();
            assertThat(v.ok()).as(v.describe()).isTrue();
        }
    }
}
