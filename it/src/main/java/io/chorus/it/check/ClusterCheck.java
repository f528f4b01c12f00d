package io.chorus.it.check;

import io.chorus.coordinator.demo.ConvergenceChecker;
import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.ChorusCluster.NodeStatus;
import io.chorus.it.workload.Workload;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The verdict on a cluster after the load: read barriers on every node (two rounds of sync_wait), every node ONLINE,
 * every replicated table and the conflict log identical everywhere ({@link ConvergenceChecker}), and every
 * workload's own invariants (acknowledged rows present, sums kept, no orphans). Blocks on SQL.
 */
public final class ClusterCheck {
    private ClusterCheck() {
    }

    /**
     * Gives a node that is not ONLINE (a domain restarting after its server lost commits in a crash, say: FAILED for a
     * back-off, then JOINING and CATCHING_UP) up to {@code perNode} to get there. A node still not ONLINE then is
     * reported by the verdict with its state and last error.
     */
    private static void awaitOnline(ChorusCluster cluster, Duration perNode) {
        for (int i = 1; i <= cluster.size(); i++) {
            int node = i;
            try {
                Await.until("node" + node + " to be ONLINE before the verdict", perNode,
                        () -> cluster.status(node).online());
            } catch (IllegalStateException notOnline) {
                // the verdict names the node's state and last error
            }
        }
    }

    /** The outcome; {@link #ok()} only when nothing is wrong. {@link #describe()} says everything for a person. */
    public record Verdict(boolean converged, String firstDifference, List<String> problems, List<NodeStatus> statuses,
                          Map<String, Long> rowsPerTable) {
        public boolean ok() {
            return converged && problems.isEmpty();
        }

        /** True when a node stopped with a DIVERGENCE error (the known apply race shows up this way). */
        public boolean divergenceReported() {
            return statuses.stream().anyMatch(s -> s.lastError() != null && s.lastError().toUpperCase().contains("DIVERGENCE"));
        }

        public String describe() {
            StringBuilder sb = new StringBuilder(ok() ? "verdict: converged" : "verdict: NOT CONVERGED");
            for (NodeStatus s : statuses) {
                sb.append("\n  ").append(s.node()).append(' ').append(s.state()).append(" W=").append(s.watermark())
                        .append(" conflicts=").append(s.conflicts());
                if (s.lastError() != null) {
                    sb.append(" last_error: ").append(s.lastError());
                }
            }
            problems.forEach(p -> sb.append("\n  problem: ").append(p));
            if (firstDifference != null) {
                sb.append("\n  first difference: ").append(firstDifference);
            }
            sb.append("\n  rows: ").append(rowsPerTable);
            return sb.toString();
        }
    }

    /**
     * Quiesces (every node ONLINE within {@code perNode}, then a barrier with {@code perNode} per sync_wait) and
     * checks everything.
     */
    /**
     * After the barrier, every ONLINE node's chorus.status() conflict count is the number of rows in its
     * chorus.conflicts, whether or not its sidecar restarted (the status row is written once a second: a difference
     * is looked at again for up to 5 s).
     */
    private static List<String> conflictCounts(ChorusCluster cluster, List<NodeStatus> statuses,
                                               Map<String, Connection> nodes) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (int i = 1; i <= cluster.size(); i++) {
            int node = i;
            Connection c = nodes.get("node" + node);
            if (c == null || statuses.stream().noneMatch(s -> s.node().equals("node" + node) && s.online())) {
                continue;
            }
            long rows = io.chorus.it.harness.Sql.number(c, "SELECT count(*) FROM chorus.conflicts");
            try {
                Await.until("node" + node + "'s chorus.status() to report its " + rows + " chorus.conflicts rows",
                        Duration.ofSeconds(5), () -> cluster.status(node).conflicts() == rows);
            } catch (IllegalStateException differs) {
                problems.add("node" + node + "'s chorus.status() reports " + cluster.status(node).conflicts()
                        + " conflicts but its chorus.conflicts holds " + rows + " rows");
            }
        }
        return problems;
    }

    public static Verdict verify(ChorusCluster cluster, List<Workload> workloads, Duration perNode) throws SQLException {
        List<String> problems = new ArrayList<>();
        awaitOnline(cluster, perNode);
        cluster.barrier(perNode).forEach((node, error) -> problems.add(node + " did not pass the read barrier: " + error));
        List<NodeStatus> statuses = cluster.statuses();
        for (NodeStatus s : statuses) {
            if (!s.online()) {
                problems.add(s.node() + " is " + s.state() + " (" + s.phase() + "), not ONLINE"
                        + (s.lastError() == null ? "" : ": " + s.lastError()));
            }
        }
        Map<String, Connection> nodes = cluster.connectAll();
        try {
            ConvergenceChecker.Result r = ConvergenceChecker.check(nodes);
            for (Workload w : workloads) {
                problems.addAll(w.verify(nodes));
            }
            problems.addAll(conflictCounts(cluster, statuses, nodes));
            return new Verdict(r.converged(), r.firstDifference(), problems, statuses, r.rowsPerTable());
        } finally {
            for (Connection c : nodes.values()) {
                c.close();
            }
        }
    }
}
