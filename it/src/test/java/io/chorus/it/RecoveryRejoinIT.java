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
 * A node whose sidecar is killed (kill -9) for 30 s while the others write comes back: from the group's log when it
 * still holds what the node missed (incremental), by a full transfer when the log was compacted past it (retention by
 * age set to a few seconds). Both end converged with every acknowledged insert on every node.
 */
@Tag("slow")
@Tag("known-race") // needs a restarted member to catch up on the log under load, which gcs reports as known-race
// (kill -9 restart catch-up); not yet seen passing on this machine, see the recovery report
class RecoveryRejoinIT {
    private static final Duration DOWN = Duration.ofSeconds(30);

    @Test
    void killedNodeCatchesUpFromTheLog() throws Exception {
        String log = rejoin("rejoin", s -> s);
        assertThat(log).as("node3 rejoined from the log").doesNotContain("full transfer from node");
    }

    @Test
    void killedNodePastRetentionRejoinsByFullTransfer() throws Exception {
        String log = rejoin("retention", s -> s.replace("group:\n", "group:\n  retentionAge: 8s\n"));
        assertThat(log).as("node3 needed a full transfer").contains("it needs a full state transfer");
        assertThat(log).as("node3 rejoined by full transfer").contains("full transfer from node");
    }

    private String rejoin(String database, java.util.function.UnaryOperator<String> config) throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("RecoveryRejoinIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ") " + database);
        UniqueInserts inserts = new UniqueInserts();
        List<Workload> workloads = List.of(inserts);
        try (ChorusCluster cluster = ChorusCluster.start(3, 3, database, HarnessIT.schema(workloads), null, "async", config)) {
            WorkloadRunner load = WorkloadRunner.start(1, workloads, cluster::connect, 3, 1, seed, Duration.ofSeconds(300), 1_000_000);
            Await.committed(load, 100);
            cluster.local().killSidecar(3);
            long downUntil = System.nanoTime() + DOWN.toNanos();
            io.chorus.it.harness.Await.until("node3 to stay down for " + DOWN.toSeconds() + " s while nodes 1-2 write",
                    DOWN.plusSeconds(10), () -> System.nanoTime() >= downUntil);
            cluster.local().startSidecar(3);
            RecoveryJoinIT.awaitState(cluster, 3, "ONLINE", Duration.ofSeconds(240));
            Await.committed(load, 50);
            load.stop();
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            System.out.println(database + ": " + v.describe());
            assertThat(load.errors()).as("writer errors").isEmpty();
            assertThat(v.ok()).as(v.describe()).isTrue();
            try (Connection c = cluster.connect(3)) {
                System.out.println(database + ": saved commits on node3: " + Sql.one(c, "SELECT count(*) FROM chorus.saved_commits"));
            }
            return Files.readString(cluster.local().sidecarLog(3));
        }
    }
}
