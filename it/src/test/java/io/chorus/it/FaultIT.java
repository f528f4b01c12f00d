package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Faults;
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
 * Three nodes × every fault, on one cluster reused across cases (a new one after a failed case). Each case: 10 s of
 * load on every node with one of two workload mixes (the mixes alternate over the faults, so each fault meets the
 * mix it stresses most: kill -9 and backend terminations meet the unique inserts, whose every acknowledged id is
 * counted on every node), the fault injected once load is flowing, then the full verdict. {@code -Dchorus.faults=a,b}
 * runs only the faults whose names contain one of the given words. Cases with a known product defect are skipped,
 * naming it, unless {@code -Dchorus.knownDefects=true}.
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
    private final long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
    private ChorusCluster cluster;
    private int run;

    /** A fault: what to do once the load is flowing. */
    interface Fault {
        void inject(Faults faults, WorkloadRunner load) throws Exception;
    }

    static Stream<Arguments> cases() {
        String only = System.getProperty("chorus.faults", "");
        List<Arguments> out = new ArrayList<>();
        for (Object[] f : faults()) {
            String name = (String) f[0];
            if (only.isBlank() || Stream.of(only.split(",")).anyMatch(w -> name.contains(w.trim()))) {
                out.add(Arguments.of(name, f[1], f[2], KNOWN_DEFECTS.get(name)));
            }
        }
        return out.stream();
    }

    /**
     * Faults whose cases still fail on a product defect, with the defect. The bank totals that ended a few units off
     * on every node after a slow node, terminated helpers or walsender and an immediate restart are fixed (R3
     * rollbacks deleted and re-inserted a row under a waiting local UPDATE; helper commits a crash lost while the
     * domain went on above them). Left: an immediate restart that once ended with another node diverged; and a fast
     * shutdown of PostgreSQL under load that never finishes. It waits for the logical walsender, which waits for the
     * capture to confirm everything sent; the capture releases an own changeset only once the applier passed it, and
     * the applier cannot reach a server that is shutting down.
     */
    private static final java.util.Map<String, String> KNOWN_DEFECTS = java.util.Map.of(
            "PostgreSQL immediate restart", "after node3's immediate restart node2 ended with other bank balances than "
                    + "node1 and node3 (total 199,976; one of two runs), a divergence not found yet",
            "PostgreSQL fast restart", "a fast shutdown under load hangs: the walsender waits for the capture's "
                    + "confirmation, the capture for the applier, the applier for the server that is shutting down");

    private static final String BANK_INSERTS = "bank+inserts";
    private static final String HOT_TOAST_FK = "hot+toast+fk";

    private static List<Object[]> faults() {
        return List.of(
                new Object[] {"sidecar kill -9 and restart", (Fault) (f, l) -> f.crashAndRestartSidecar(2), BANK_INSERTS},
                new Object[] {"sidecar frozen", (Fault) (f, l) -> {
                    f.cluster().nodes().pauseSidecar(3);
                    Await.committed(l, 300);
                    f.cluster().nodes().resumeSidecar(3);
                }, HOT_TOAST_FK},
                new Object[] {"slow node", (Fault) (f, l) -> {
                    try (AutoCloseable slow = f.slowNode(2, Duration.ofMillis(300), Duration.ofMillis(1000))) {
                        Await.committed(l, 400);
                    }
                }, BANK_INSERTS},
                new Object[] {"PostgreSQL fast restart", (Fault) (f, l) -> f.restartPostgres(1, StopMode.FAST), HOT_TOAST_FK},
                new Object[] {"PostgreSQL immediate restart", (Fault) (f, l) -> f.restartPostgres(3, StopMode.IMMEDIATE), BANK_INSERTS},
                new Object[] {"helpers terminated", (Fault) (f, l) -> {
                    f.terminateHelpers(2);
                    Await.committed(l, 100);
                    f.terminateHelpers(2);
                }, BANK_INSERTS},
                new Object[] {"walsender terminated", (Fault) (f, l) -> {
                    f.terminateWalsender(1);
                    Await.committed(l, 100);
                    f.terminateWalsender(1);
                }, BANK_INSERTS});
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
    void faultThenConverge(String fault, Fault action, String mixName, String knownDefect) throws Exception {
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
                    Duration.ofSeconds(10), MAX_PER_WRITER);
            Exception injectFailure = null;
            try {
                Await.committed(load, 150);
                action.inject(faults, load);
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
