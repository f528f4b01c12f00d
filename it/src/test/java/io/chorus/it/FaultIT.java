package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Faults;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.Bank;
import io.chorus.it.workload.FkChurn;
import io.chorus.it.workload.HotUpdates;
import io.chorus.it.workload.LargeRows;
import io.chorus.it.workload.UniqueInserts;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import io.chorus.testkit.PgServer.StopMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Three nodes × every fault × both workload mixes, on one cluster reused across cases (a new one after a failed case).
 * Each case: load on every node with one mix (bank transfers and unique inserts, whose every acknowledged id is counted
 * on every node; or hot-row updates, large TOAST rows and foreign-key churn), the fault injected once load is flowing,
 * then the full verdict. {@code -Dchorus.faults=a,b} runs only the cases whose names ("fault under mix") contain one
 * of the given words. Cases with a known product defect are skipped, naming it, unless
 * {@code -Dchorus.knownDefects=true}.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultIT {
    private static final int NODES = 3;
    /**
     * Transactions per writer and case: enough to overlap the fault, few enough that every node can apply the whole
     * backlog within the verdict's barrier on a shared 2-core machine (the suite checks correctness, not speed).
     */
    private static final int MAX_PER_WRITER = 500;
    private static final Duration LOAD = Duration.ofSeconds(10);
    private final long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
    private ChorusCluster cluster;
    private int run;

    /** A fault: what to do once the load is flowing. */
    interface Fault {
        void inject(Faults faults, WorkloadRunner load) throws Exception;
    }

    /** One fault of the matrix: its name and what it does. */
    record FaultCase(String name, Fault action) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        String only = System.getProperty("chorus.faults", "");
        List<Arguments> out = new ArrayList<>();
        for (FaultCase f : faults()) {
            for (String mix : List.of(BANK_INSERTS, HOT_TOAST_FK)) {
                String name = f.name() + " under " + mix;
                if (only.isBlank() || Stream.of(only.split(",")).anyMatch(w -> name.contains(w.trim()))) {
                    out.add(Arguments.of(f.name(), f, mix, KNOWN_DEFECTS.getOrDefault(name, KNOWN_DEFECTS.get(f.name()))));
                }
            }
        }
        return out.stream();
    }

    /**
     * Faults whose cases still fail on a product defect, with the defect. Fixed: bank totals a few units off on every
     * node (R3 rollbacks deleted and re-inserted a row under a waiting local UPDATE; helper commits a crash lost while
     * the domain went on above them); a fast shutdown under load that never finished (a helper that cannot connect
     * now stops the domain, which lets go of its replication connection and restarts once the server is back); a
     * restarted domain far behind its own group log that never finished its join; the helper terminations under
     * hot+toast+fk (a restarted sidecar's chorus.status() counted only its own run's conflicts, so its count looked
     * short; the hot_rows difference of that one run did not come back); the frozen sidecar under bank+inserts (one
     * node's own account ended on a doomed transfer's balance: the commit of a row's earlier retirement dropped its
     * pending-row state while a loser's rollback was still pending, and a late commit took that loser's version as
     * the row's base); the partition under hot+toast+fk (the leader sent a follower a few entries behind all of them
     * again at every 20 ms check: node2 held 400 MB of those resends behind a gap in its unicast channel); the
     * immediate restart under bank+inserts (passed 3 of 3 after the fix of rows retired twice); the helper
     * terminations under bank+inserts (a barrier decoded during a restart's catch-up met a null appender); the
     * immediate restart under hot+toast+fk (a restart's replay kept every verdict with its changeset for the
     * pending-row rebuild: 454 MB of TOAST rows in 31,008 verdicts in a heap dump; they wait in a spill file now).
     */
    private static final java.util.Map<String, String> KNOWN_DEFECTS = java.util.Map.of();

    private static final String BANK_INSERTS = "bank+inserts";
    private static final String HOT_TOAST_FK = "hot+toast+fk";

    private static List<FaultCase> faults() {
        return List.of(
                new FaultCase("sidecar kill -9 and restart", (f, l) -> f.crashAndRestartSidecar(2)),
                new FaultCase("sidecar frozen", (f, l) -> {
                    f.cluster().nodes().pauseSidecar(3);
                    Await.committed(l, 300);
                    f.cluster().nodes().resumeSidecar(3);
                }),
                new FaultCase("slow node", (f, l) -> {
                    try (AutoCloseable slow = f.slowNode(2, Duration.ofMillis(300), Duration.ofMillis(1000))) {
                        Await.committed(l, 400);
                    }
                }),
                new FaultCase("PostgreSQL fast restart", (f, l) -> f.restartPostgres(1, StopMode.FAST)),
                new FaultCase("PostgreSQL immediate restart", (f, l) -> f.restartPostgres(3, StopMode.IMMEDIATE)),
                new FaultCase("helpers terminated", (f, l) -> {
                    f.terminateHelpers(2);
                    Await.committed(l, 100);
                    f.terminateHelpers(2);
                }),
                new FaultCase("walsender terminated", (f, l) -> {
                    f.terminateWalsender(1);
                    Await.committed(l, 100);
                    f.terminateWalsender(1);
                }),
                new FaultCase("partition and heal", FaultIT::partitionAndHeal));
    }

    /**
     * {1,2} | {3} on loopback: both sides go on writing, then the heal. The load writes on both sides from the cut on;
     * once node3 is outside the primary component, one more write on each side shows that async mode still accepts
     * local writes there (they are certified after the merge).
     */
    private static void partitionAndHeal(Faults f, WorkloadRunner l) throws Exception {
        long minority = l.committedOn(3);
        long majority = l.committedOn(1) + l.committedOn(2);
        try {
            f.partition(List.of(1, 2), List.of(3));
            for (int node : List.of(3, 1)) {
                try (Connection c = f.cluster().connect(node)) {
                    assertThat(Sql.exec(c, "UPDATE hot_rows SET note = ? WHERE id = 1", "partitioned node" + node))
                            .as("node%d's write while partitioned", node).isEqualTo(1);
                }
            }
            io.chorus.it.harness.Await.until("100 more commits on each side of the partition {1,2}|{3} since the cut (node3 "
                    + minority + ", nodes 1+2 " + majority + " before it)", Duration.ofSeconds(60),
                    () -> l.committedOn(3) >= minority + 100 && l.committedOn(1) + l.committedOn(2) >= majority + 100);
            System.out.println("partition {1,2}|{3}: " + (l.committedOn(3) - minority) + " commits on node3 and "
                    + (l.committedOn(1) + l.committedOn(2) - majority) + " on nodes 1+2 while cut off");
        } finally {
            f.heal();
        }
    }

    private static List<Workload> mix(String name) {
        Supplier<List<Workload>> s = name.equals(BANK_INSERTS)
                ? () -> List.of(new Bank(), new UniqueInserts())
                : () -> List.of(new HotUpdates(), new LargeRows(), new FkChurn());
        return s.get();
    }

    private static String schema() {
        List<Workload> all = new ArrayList<>(mix(BANK_INSERTS));
        all.addAll(mix(HOT_TOAST_FK));
        return HarnessIT.schema(all);
    }

    @ParameterizedTest(name = "{0} under {2}")
    @MethodSource("cases")
    void faultThenConverge(String fault, FaultCase faultCase, String mixName, String knownDefect) throws Exception {
        Assumptions.assumeTrue(knownDefect == null || Boolean.getBoolean("chorus.knownDefects"),
                () -> "known product defect, skipped (run with -Dchorus.knownDefects=true): " + knownDefect);
        System.out.println("FaultIT seed " + seed + " (replay with -Dchorus.seed=" + seed + "): " + fault + " under " + mixName);
        if (cluster == null) {
            cluster = ChorusCluster.start(NODES, "faults", schema(), null);
        }
        List<Workload> workloads = mix(mixName);
        boolean ok = false;
        try (Faults faults = new Faults(cluster)) {
            WorkloadRunner load = WorkloadRunner.start(++run, workloads, cluster::connect, NODES, 1, seed + run,
                    LOAD, MAX_PER_WRITER);
            Exception injectFailure = null;
            try {
                Await.committed(load, 150);
                faultCase.action().inject(faults, load);
            } catch (Exception e) {
                injectFailure = e; // still quiesce and report what the cluster looks like
            }
            load.await(Duration.ofSeconds(90));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, workloads, Duration.ofSeconds(90));
            String summary = fault + " under " + mixName + ": committed " + load.committed() + ", refused locally "
                    + load.refusedLocally() + ", in doubt " + load.inDoubt() + " (sidecar logs in "
                    + cluster.nodes().directory() + ")\n" + v.describe() + "\n";
            System.out.println(summary);
            // one file with every case's verdict, readable while the suite still runs
            Files.writeString(Path.of("target", "fault-verdicts.txt"), summary, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            assertThat(injectFailure).as("the fault or the load stalled:%n%s", v.describe()).isNull();
            assertThat(load.errors()).as("writer errors").isEmpty();
            assertThat(v.ok()).as("%s%s", v.describe(), v.divergenceReported() ? "\n(a node reported DIVERGENCE)" : "").isTrue();
            ok = true;
        } finally {
            if (!ok) {
                cluster.close();
                cluster = null;
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
