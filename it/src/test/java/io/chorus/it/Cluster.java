package io.chorus.it;

import io.chorus.coordinator.demo.LocalCluster;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Small SQL helpers shared by the cluster tests. */
final class Cluster {
    private Cluster() {
    }

    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no row from: " + sql);
            }
            return rs.getString(1);
        }
    }

    static List<String> column(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** Two rounds of chorus.sync_wait() on every node: afterwards every node has applied every node's commits. */
    static void barrier(LocalCluster cluster) throws SQLException {
        for (int round = 0; round < 2; round++) {
            for (int i = 1; i <= cluster.size(); i++) {
                if (!cluster.sidecarAlive(i)) {
                    continue;
                }
                try (Connection c = cluster.connect(i)) {
                    one(c, "SELECT chorus.sync_wait('90 s')");
                }
            }
        }
    }

    /** Waits (bounded) until the sidecar of a node has installed the SQL surface and publishes its heartbeat. */
    static void awaitSurface(Connection c, int node) throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            if ("true".equals(one(c, "SELECT (to_regclass('chorus.node_state') IS NOT NULL AND "
                    + "exists(SELECT 1 FROM pg_proc WHERE proname = 'sync_wait'))::text"))
                    && "true".equals(one(c, "SELECT coalesce(chorus._sidecar_age() < 5, false)::text"))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the sidecar of node" + node + " did not install the chorus schema within 90 s");
            }
            one(c, "SELECT pg_sleep(0.1)::text");
        }
    }
}
