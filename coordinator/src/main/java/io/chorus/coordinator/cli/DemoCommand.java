package io.chorus.coordinator.cli;

import io.chorus.coordinator.config.ConfigLoader;
import io.chorus.coordinator.demo.ConvergenceChecker;
import io.chorus.coordinator.demo.DemoWorkload;
import io.chorus.coordinator.demo.LocalCluster;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code chorus demo}: a local cluster on embedded PostgreSQL, replication switched on through the SQL functions, a
 * conflicting workload on every node, a live view, then a convergence check and its verdict. Exit code 0 only when
 * every table (and the conflict log) is identical on every node.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local cluster (embedded PostgreSQL + sidecars), write on every node, check convergence.")
public final class DemoCommand implements Callable<Integer> {
    private static final String DB = "demo";
    private static final String GROUP = "demo";

    @Option(names = "--nodes", defaultValue = "3", description = "number of nodes, 2 to 5 (default ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--duration", defaultValue = "20s", description = "how long the workload runs (default ${DEFAULT-VALUE})")
    String duration;

    @Option(names = "--writers", defaultValue = "2", description = "writer connections per node (default ${DEFAULT-VALUE})")
    int writers;

    @Option(names = "--seed", defaultValue = "42", description = "workload seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--rate", defaultValue = "200",
            description = "transactions per second offered by all writers together, 0 = unthrottled (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--keep-running", description = "keep the cluster up after the verdict, until Ctrl-C")
    boolean keepRunning;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (nodes < 2 || nodes > 5) {
            throw new IllegalArgumentException("--nodes must be between 2 and 5, got " + nodes);
        }
        Duration length = ConfigLoader.parseDuration(duration);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("chorus demo: %d nodes, workload %s, %d writers per node, %s tx/s offered%n", nodes, duration, writers,
                rate <= 0 ? "unthrottled" : String.format("%.0f", rate));
        CountDownLatch interrupted = new CountDownLatch(1);
        try (LocalCluster cluster = LocalCluster.create(nodes, DB, GROUP)) {
            Thread hook = new Thread(() -> {
                interrupted.countDown();
                cluster.close();
            }, "chorus-demo-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            out.printf("started %d PostgreSQL servers; cluster folder %s%n", nodes, cluster.directory());
            for (int i = 1; i <= nodes; i++) {
                try (Connection c = cluster.connect(i)) {
                    DemoWorkload.createSchema(c);
                }
            }
            cluster.startSidecars();
            enable(cluster, out);
            DemoWorkload workload = new DemoWorkload();
            for (int i = 1; i <= nodes; i++) {
                int node = i;
                workload.start("node" + i, i, nodes, () -> cluster.connect(node), writers, seed, length,
                        rate / (nodes * (double) writers));
            }
            liveView(cluster, workload, out);
            workload.stop();
            out.println("workload finished; waiting for every node to apply everything (chorus.sync_wait)");
            quiesce(cluster);
            int code = report(cluster, workload, out);
            if (keepRunning) {
                for (int i = 1; i <= nodes; i++) {
                    out.printf("node%d %s%n", i, cluster.server(i).uri(DB).replace("postgres@", ""));
                }
                out.println("cluster running; Ctrl-C stops it");
                out.flush();
                interrupted.await();
            }
            return code;
        }
    }

    private static void enable(LocalCluster cluster, PrintWriter out) throws SQLException {
        for (int i = 1; i <= cluster.size(); i++) {
            try (Connection c = cluster.connect(i)) {
                waitForSurface(c, i);
                out.printf("node%d: %s%n", i, one(c, "SELECT chorus.enable('" + GROUP + "', " + (i == 1) + ")"));
            }
        }
        for (int i = 1; i <= cluster.size(); i++) {
            try (Connection c = cluster.connect(i)) {
                out.printf("node%d: %s%n", i, one(c, "SELECT chorus.wait_ready('ONLINE', '120 s')"));
            } catch (SQLException e) {
                throw new IllegalStateException("node" + i + " did not come ONLINE: " + e.getMessage()
                        + " (sidecar log: " + cluster.sidecarLog(i) + ")", e);
            }
        }
    }

    /** The sidecar installs the SQL surface when it starts; wait for it (bounded). */
    private static void waitForSurface(Connection c, int node) throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            String ok = one(c, "SELECT (to_regclass('chorus.node_state') IS NOT NULL AND "
                    + "exists(SELECT 1 FROM pg_proc WHERE proname = 'enable'))::text");
            if ("true".equals(ok) && "true".equals(one(c, "SELECT (chorus._sidecar_age() < 5)::text"))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the sidecar of node" + node + " did not install the chorus schema within 60 s");
            }
            one(c, "SELECT pg_sleep(0.1)::text");
        }
    }

    private static void liveView(LocalCluster cluster, DemoWorkload workload, PrintWriter out) throws Exception {
        Map<String, Connection> conns = cluster.connectAll();
        try {
            long last = 0;
            long t0 = System.nanoTime();
            while (!workload.finished()) {
                long committed = workload.committed();
                double secs = (System.nanoTime() - t0) / 1e9;
                StringBuilder line = new StringBuilder(String.format("[%5.1fs] %6d tx/s |", secs, (committed - last) / 2));
                last = committed;
                for (Map.Entry<String, Connection> e : conns.entrySet()) {
                    try (Statement st = e.getValue().createStatement(); ResultSet rs = st.executeQuery(
                            "SELECT state, watermark, lag_gsn, conflicts FROM chorus.status()")) {
                        rs.next();
                        line.append(String.format(" %s %s W=%d lag=%d conflicts=%d |", e.getKey(), rs.getString(1),
                                rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                    }
                }
                out.println(line);
                out.flush();
                one(conns.values().iterator().next(), "SELECT pg_sleep(2)::text");
            }
        } finally {
            for (Connection c : conns.values()) {
                c.close();
            }
        }
    }

    private static void quiesce(LocalCluster cluster) throws SQLException {
        for (int round = 0; round < 2; round++) {
            for (int i = 1; i <= cluster.size(); i++) {
                try (Connection c = cluster.connect(i)) {
                    one(c, "SELECT chorus.sync_wait('120 s')::text");
                }
            }
        }
    }

    private static int report(LocalCluster cluster, DemoWorkload workload, PrintWriter out) throws SQLException {
        Map<String, Connection> conns = cluster.connectAll();
        try {
            ConvergenceChecker.Result r = ConvergenceChecker.check(conns);
            Connection first = conns.values().iterator().next();
            out.println();
            out.println("report");
            out.printf("  transactions committed: %d (refused locally by a constraint: %d)%n", workload.committed(), workload.refusedLocally());
            List<String> kinds = new ArrayList<>();
            try (Statement st = first.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT kind, count(*) FROM chorus.conflicts GROUP BY kind ORDER BY count(*) DESC, kind")) {
                while (rs.next()) {
                    kinds.add(rs.getString(1) + " " + rs.getLong(2));
                }
            }
            out.printf("  conflicts (identical on every node when converged): %s%n", kinds.isEmpty() ? "none" : String.join(", ", kinds));
            Map<String, Long> rows = new LinkedHashMap<>(r.rowsPerTable());
            out.printf("  rows: %s%n", rows);
            for (String err : workload.errors()) {
                out.printf("  writer error: %s%n", err);
            }
            if (r.converged()) {
                out.println("verdict: converged");
                return 0;
            }
            out.println("verdict: DIVERGED");
            out.println(r.firstDifference());
            return 1;
        } finally {
            for (Connection c : conns.values()) {
                c.close();
            }
        }
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
