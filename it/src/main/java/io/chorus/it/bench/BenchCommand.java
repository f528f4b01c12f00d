package io.chorus.it.bench;

import io.chorus.coordinator.config.ConfigLoader;
import io.chorus.coordinator.demo.ConvergenceChecker;
import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.WorkloadRunner;
import io.chorus.testkit.PgServer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.DoubleSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code chorus bench}: PostgreSQL's native publication/subscription against Chorus on the same machine, in the same
 * run, with the same data and clients: TPC-B-like and insert-only; throughput and reader-side lag under full load,
 * CPU per committed transaction, and the apply rate of a backlog drained after apply was paused (native: subscription
 * disabled; Chorus: the reader's apply held by a table lock). Prints a table and the ratio lines, writes CSV and a PNG.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark native logical replication against Chorus (throughput, lag, CPU, backlog drain).")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "short phases (finishes within about 3 minutes)")
    boolean quick;

    @Option(names = "--nodes", defaultValue = "3", description = "Chorus nodes, 2 to 5 (default ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--clients", description = "client connections per writing node (default 4, 2 with --quick)")
    Integer clients;

    @Option(names = "--duration", description = "length of each load phase (default 30s, 6s with --quick)")
    String duration;

    @Option(names = "--out", defaultValue = "bench-results", description = "folder for bench.csv, lag.csv, lag.png (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "client seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--workload", split = ",", paramLabel = "NAME",
            description = "workloads to run, of tpcb and insert (default: both)")
    List<String> workloads;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;


    private int run;
    private Duration catchUp;

    @Override
    public Integer call() throws Exception {
        if (nodes < 2 || nodes > 5) {
            throw new IllegalArgumentException("--nodes must be between 2 and 5, got " + nodes);
        }
        List<BenchLoad> loads = selected();
        Duration load = duration != null ? ConfigLoader.parseDuration(duration) : Duration.ofSeconds(quick ? 6 : 30);
        Duration backlog = load.dividedBy(2);
        catchUp = Duration.ofSeconds(quick ? 30 : 300);
        if (clients == null) {
            clients = quick ? 2 : 4;
        }
        PrintWriter o = spec.commandLine().getOut();
        String schema = BenchLoad.HEARTBEAT + loads.stream().map(BenchLoad::schema).collect(Collectors.joining());
        Files.createDirectories(out);
        o.printf("chorus bench: %d cores, %d Chorus nodes, %d clients per writing node, load phases %d s, backlog %d s%n",
                Runtime.getRuntime().availableProcessors(), nodes, clients, load.toSeconds(), backlog.toSeconds());
        List<BenchResult> results = new ArrayList<>();
        List<BenchResult.Drain> drains = new ArrayList<>();
        // both set-ups overlap (start-up is not measured); the phases then run one at a time
        CompletableFuture<ChorusCluster> chorus = CompletableFuture.supplyAsync(() -> startChorus(schema));
        String failure;
        try {
            try (NativePair pair = NativePair.start(schema)) {
                chorus.join();
                for (BenchLoad w : loads) {
                    results.add(phase("native", "one-writer", w, pair::connect, List.of(1), 2, load,
                            () -> CpuMeter.serversMs(pair.servers()), NO_SIDECARS));
                    progress(o, results);
                    drains.add(nativeDrain(pair, w, backlog));
                }
            }
            try (ChorusCluster cluster = chorus.join()) {
                failure = chorusPhases(cluster, loads, load, backlog, results, drains, o);
                if (failure == null) {
                    failure = verdict(cluster, o);
                }
            }
        } finally {
            chorus.thenAccept(ChorusCluster::close);
        }
        if (failure != null) {
            o.println("CHORUS FAILED during the benchmark: " + failure);
        }
        BenchReport.print(o, results, drains);
        BenchReport.writeCsv(out, results, drains);
        BenchReport.drawLag(out.resolve("lag.png"), results);
        o.printf("wrote %s, %s and %s%n", out.resolve("bench.csv"), out.resolve("lag.csv"), out.resolve("lag.png"));
        return failure == null ? 0 : 1;
    }

    private ChorusCluster startChorus(String schema) {
        try {
            return ChorusCluster.start(nodes, "bench", schema, null);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot start the Chorus cluster: " + e.getMessage(), e);
        }
    }

    /** Runs the Chorus phases; returns null, or why it stopped early (a node not ONLINE, or not catching up). */
    private String chorusPhases(ChorusCluster cluster, List<BenchLoad> loads, Duration load, Duration backlog, List<BenchResult> results,
                                List<BenchResult.Drain> drains, PrintWriter o) throws Exception {
        List<Long> pids = IntStream.rangeClosed(1, nodes).mapToObj(i -> cluster.local().sidecarPid(i)).toList();
        List<PgServer> servers = IntStream.rangeClosed(1, nodes).mapToObj(i -> cluster.local().server(i)).toList();
        DoubleSupplier serverCpu = () -> CpuMeter.serversMs(servers);
        Sidecars sidecars = new Sidecars(() -> CpuMeter.processesMs(pids), () -> CpuMeter.compilerMs(pids));
        List<Integer> all = IntStream.rangeClosed(1, nodes).boxed().toList();
        String cold = warmUp(cluster, loads, all, sidecars, o);
        if (cold != null) {
            return cold;
        }
        for (BenchLoad w : loads) {
            for (List<Integer> writers : List.of(List.of(1), all)) {
                String unhealthy = health(cluster);
                if (unhealthy != null) {
                    return unhealthy;
                }
                results.add(phase("chorus", writers.size() == 1 ? "one-writer" : "all-writers", w, cluster::connect, writers, 2,
                        load, serverCpu, sidecars));
                progress(o, results);
            }
            String behind = caughtUp(cluster);
            if (behind != null) {
                return behind;
            }
            try {
                drains.add(chorusDrain(cluster, w, backlog, nativeBacklog(drains, w), o));
            } catch (SQLException | IllegalStateException e) {
                String unhealthy = health(cluster);
                return "backlog drain of " + w.label + ": " + e.getMessage() + (unhealthy == null ? "" : " (" + unhealthy + ")");
            }
        }
        return null;
    }

    /** CPU readings of the sidecar JVMs: all their threads, and their JIT compiler threads alone. */
    private record Sidecars(DoubleSupplier cpuMs, DoubleSupplier jitMs) {
    }

    private static final Sidecars NO_SIDECARS = new Sidecars(() -> 0, () -> 0);

    /**
     * Runs every workload on every node for a short while, unmeasured, and waits until the cluster caught up: the
     * sidecars are JVMs, and a running sidecar has long been compiled (the native side needs no warm-up). Prints how
     * much of the sidecars' CPU their JIT compilers took meanwhile: on 2 cores they go on compiling through the
     * measured phases (so the table reports that part apart), and a longer warm-up does not end it within minutes
     * while the backlog of a longer all-nodes load only slows the barrier. Returns null, or why the cluster is not
     * usable.
     */
    private String warmUp(ChorusCluster cluster, List<BenchLoad> loads, List<Integer> all, Sidecars sidecars, PrintWriter o)
            throws Exception {
        Duration each = quick ? Duration.ofSeconds(3) : Duration.ofSeconds(10);
        double cpu0 = sidecars.cpuMs().getAsDouble();
        double jit0 = sidecars.jitMs().getAsDouble();
        for (BenchLoad w : loads) {
            backlog(w, cluster::connect, all, each, 0, each);
        }
        String behind = caughtUp(cluster);
        // and a short backlog drained by node 2 per workload: a paused applier, full queues and a member catching up
        // run code the load alone does not, and the measured drain should not be its first time
        for (int i = 0; i < loads.size() && behind == null; i++) {
            chorusDrain(cluster, loads.get(i), each.dividedBy(3), 0, null);
            behind = caughtUp(cluster);
        }
        double cpu = sidecars.cpuMs().getAsDouble() - cpu0;
        o.printf(Locale.ROOT, "  chorus warm-up: %d s of each workload on every node and a drain of each on node 2, "
                + "then caught up; JIT compilers used %.0f%% of the sidecars' %.0f ms CPU%n", each.toSeconds(),
                cpu <= 0 ? 0 : 100 * (sidecars.jitMs().getAsDouble() - jit0) / cpu, cpu);
        o.flush();
        return behind;
    }

    /** The workloads {@code --workload} names, in the bench's order; every one when it is not given. */
    private List<BenchLoad> selected() {
        if (workloads == null || workloads.isEmpty()) {
            return List.of(BenchLoad.values());
        }
        List<BenchLoad> picked = new ArrayList<>();
        for (String name : workloads) {
            BenchLoad w = java.util.Arrays.stream(BenchLoad.values()).filter(l -> l.label.equals(name.trim())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("--workload: unknown workload '" + name
                            + "'; the workloads are tpcb and insert"));
            if (!picked.contains(w)) {
                picked.add(w);
            }
        }
        picked.sort(java.util.Comparator.naturalOrder());
        return picked;
    }

    private static String health(ChorusCluster cluster) {
        List<String> bad = cluster.statuses().stream().filter(s -> !s.online())
                .map(s -> s.node() + " is " + s.state() + (s.lastError() == null ? "" : ": " + s.lastError())).toList();
        return bad.isEmpty() ? null : String.join("; ", bad);
    }

    private String caughtUp(ChorusCluster cluster) {
        Map<String, String> failures = cluster.barrier(catchUp);
        String unhealthy = health(cluster);
        if (unhealthy != null) {
            return unhealthy;
        }
        return failures.isEmpty() ? null : "the cluster did not catch up within " + catchUp.toSeconds() + " s after the load: " + failures;
    }

    private BenchResult phase(String system, String mode, BenchLoad w, WorkloadRunner.Nodes nodesOf, List<Integer> writers,
                              int reader, Duration length, DoubleSupplier serverCpu, Sidecars sidecars) throws Exception {
        LagProbe probe = LagProbe.start(nodesOf, 1, reader);
        double srv0 = serverCpu.getAsDouble();
        double side0 = sidecars.cpuMs().getAsDouble();
        double jit0 = sidecars.jitMs().getAsDouble();
        long t0 = System.nanoTime();
        LoadDriver d = LoadDriver.start(w, nodesOf, writers, clients, ++run, seed);
        Await.until(length.toSeconds() + " s of " + w.label + " load", length.plusSeconds(5),
                () -> System.nanoTime() - t0 >= length.toNanos());
        List<String> errors = d.stop();
        double secs = (System.nanoTime() - t0) / 1e9;
        List<LagProbe.Sample> lag = probe.stop();
        if (probe.failures() != null) {
            spec.commandLine().getOut().printf("  (%s %s %s: lag probe: %s)%n", system, mode, w.label, probe.failures());
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException(system + " " + mode + " " + w.label + ": clients failed: " + errors);
        }
        long n = Math.max(1, d.committed());
        return new BenchResult(system, mode, w.label, writers.size(), d.committed(), secs, d.refused(),
                LagProbe.quantile(lag, 0.5), LagProbe.quantile(lag, 0.99), (serverCpu.getAsDouble() - srv0) / n,
                (sidecars.cpuMs().getAsDouble() - side0) / n, (sidecars.jitMs().getAsDouble() - jit0) / n, lag);
    }

    private BenchResult.Drain nativeDrain(NativePair pair, BenchLoad w, Duration backlog) throws Exception {
        pair.awaitCaughtUp(Duration.ofMinutes(5));
        pair.subscription(false);
        long written = backlog(w, pair::connect, backlog);
        long t0 = System.nanoTime();
        pair.subscription(true);
        pair.awaitCaughtUp(Duration.ofMinutes(10));
        return new BenchResult.Drain("native", w.label, written, (System.nanoTime() - t0) / 1e9);
    }

    /** The backlog the native subscriber drained under {@code w} in this run (0 if none). */
    private static long nativeBacklog(List<BenchResult.Drain> drains, BenchLoad w) {
        return drains.stream().filter(d -> d.system().equals("native") && d.workload().equals(w.label))
                .mapToLong(BenchResult.Drain::backlog).findFirst().orElse(0);
    }

    /**
     * Node 2's apply paused, node 1 writes for {@code backlog}, and on until the backlog is as large as native's
     * ({@code atLeast}; at most four times as long): a drain rate depends on the backlog's size (starting costs spread
     * over more transactions), so both drain the same amount of work. The pause is a transaction on node 2 that holds
     * every table of the workloads in EXCLUSIVE mode (reads pass, writes wait): the helpers block on their first row
     * and node 2's sidecar stays in the group, receiving and ordering as usual, like the native subscriber whose
     * publisher keeps the WAL. (Freezing the sidecar instead, as an earlier version did, got it excluded from the
     * group after 8 s, and the drain then timed a rejoin.) Prints the drain's window to {@code o} unless it is null.
     */
    private BenchResult.Drain chorusDrain(ChorusCluster cluster, BenchLoad w, Duration backlog, long atLeast,
                                          PrintWriter o) throws Exception {
        long written;
        long t0;
        try (Connection pause = cluster.connect(2)) {
            pause.setAutoCommit(false);
            String tables = Sql.one(pause, "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') "
                    + "FROM pg_tables WHERE schemaname = 'public'");
            try (java.sql.Statement st = pause.createStatement()) {
                st.execute("LOCK TABLE " + tables + " IN EXCLUSIVE MODE"); // node 2 is idle: caught up before
            }
            written = backlog(w, cluster::connect, List.of(1), backlog, atLeast, backlog.multipliedBy(4));
            t0 = System.nanoTime();
            pause.commit();
        }
        java.time.LocalTime from = java.time.LocalTime.now();
        try (Connection c = cluster.connect(2)) {
            Sql.one(c, "SELECT chorus.sync_wait('" + catchUp.toSeconds() + " s')::text");
        }
        BenchResult.Drain d = new BenchResult.Drain("chorus", w.label, written, (System.nanoTime() - t0) / 1e9);
        if (o == null) {
            return d;
        }
        // the wall-clock window, to find the drain in the sidecars' logs and recordings
        o.printf(Locale.ROOT, "  chorus drain of %s: %d transactions on node 2 from %s to %s (%.0f tx/s)%n", w.label,
                written, from, java.time.LocalTime.now(), d.rate());
        o.flush();
        return d;
    }

    /** Writes {@code length} of load on node 1 (apply paused elsewhere) and returns the committed count. */
    private long backlog(BenchLoad w, WorkloadRunner.Nodes nodesOf, Duration length) throws Exception {
        return backlog(w, nodesOf, List.of(1), length, 0, length);
    }

    /**
     * Writes {@code length} of load on {@code writers}, and on until {@code atLeast} transactions committed or
     * {@code atMost} passed; returns the committed count.
     */
    private long backlog(BenchLoad w, WorkloadRunner.Nodes nodesOf, List<Integer> writers, Duration length,
                         long atLeast, Duration atMost) throws Exception {
        long t0 = System.nanoTime();
        LoadDriver d = LoadDriver.start(w, nodesOf, writers, clients, ++run, seed);
        Duration cap = atMost.compareTo(length) > 0 ? atMost : length;
        Await.until(length.toSeconds() + " s of " + w.label + " load on nodes " + writers + " and " + atLeast
                        + " transactions or " + cap.toSeconds() + " s", cap.plusSeconds(5),
                () -> System.nanoTime() - t0 >= cap.toNanos()
                        || (System.nanoTime() - t0 >= length.toNanos() && d.committed() >= atLeast));
        List<String> errors = d.stop();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("backlog clients failed: " + errors);
        }
        return d.committed();
    }

    /** Null when every node caught up and holds the same data; otherwise what is wrong. */
    private String verdict(ChorusCluster cluster, PrintWriter o) throws Exception {
        String behind = caughtUp(cluster);
        if (behind != null) {
            return behind;
        }
        Map<String, Connection> conns = cluster.connectAll();
        try {
            ConvergenceChecker.Result r = ConvergenceChecker.check(conns);
            if (r.converged()) {
                o.println("chorus nodes converged after the run (identical tables and conflict logs)");
                return null;
            }
            return "nodes DIVERGED after the run: " + r.firstDifference();
        } finally {
            for (Connection c : conns.values()) {
                c.close();
            }
        }
    }

    private static void progress(PrintWriter o, List<BenchResult> results) {
        BenchResult r = results.get(results.size() - 1);
        o.printf("  %-30s %8.1f tx/s, lag p50 %.0f ms p99 %.0f ms%n", r.label(), r.tps(), r.lagP50Ms(), r.lagP99Ms());
        o.flush();
    }
}
