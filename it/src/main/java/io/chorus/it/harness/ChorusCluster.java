package io.chorus.it.harness;

import io.chorus.coordinator.demo.LocalCluster;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A replicating cluster for tests and benchmarks: a {@link LocalCluster} whose nodes got the same schema, whose
 * sidecars run and whose database is enabled in one group (node1 bootstraps) and ONLINE on every node. Adds the
 * read barrier and the status view the checks need. Methods block on SQL; one thread drives a cluster.
 */
public final class ChorusCluster implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(ChorusCluster.class);
    private final ClusterNodes nodes;
    private final NetNamespaces namespaces;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** One row of {@code chorus.status()}. */
    public record NodeStatus(String node, String state, String phase, long watermark, long lagGsn, long conflicts,
                             String lastError) {
        public boolean online() {
            return "ONLINE".equals(state);
        }
    }

    private ChorusCluster(ClusterNodes nodes, NetNamespaces namespaces) {
        this.nodes = nodes;
        this.namespaces = namespaces;
    }

    /**
     * Starts {@code n} nodes, runs {@code schema} (DDL and identical seed rows) on each, starts the sidecars, enables
     * replication and waits until every node is ONLINE. {@code namespaces} may be null (everything on loopback).
     */
    public static ChorusCluster start(int n, String database, String schema, NetNamespaces namespaces) throws SQLException {
        return start(n, database, schema, namespaces, "async");
    }

    /**
     * As {@link #start(int, String, String, NetNamespaces)} in mode {@code async} or {@code sync}; for sync, each
     * server first names its node's capture as its synchronous standby.
     */
    public static ChorusCluster start(int n, String database, String schema, NetNamespaces namespaces, String mode)
            throws SQLException {
        return start(n, n, database, schema, namespaces, mode, UnaryOperator.identity());
    }

    /**
     * As {@link #start(int, String, String, NetNamespaces)}, but only nodes 1..{@code enabled} get the schema and are
     * enabled; the others are members of the configuration with a running sidecar and an empty database, to be
     * enabled later ({@link #enableNode}). {@code config} rewrites each node's sidecar configuration (YAML text)
     * before the sidecars start.
     */
    public static ChorusCluster start(int n, int enabled, String database, String schema, NetNamespaces namespaces,
                                      String mode, UnaryOperator<String> config) throws SQLException {
        ClusterNodes nodes = ClusterNodes.create(n, database, namespaces);
        ChorusCluster c = new ChorusCluster(nodes, namespaces);
        try {
            for (int i = 1; i <= n; i++) {
                nodes.editConfig(i, config);
            }
            for (int i = 1; i <= enabled; i++) {
                try (Connection conn = nodes.connect(i); Statement st = conn.createStatement()) {
                    st.execute(schema);
                }
            }
            if (mode.equals("sync")) {
                for (int i = 1; i <= n; i++) {
                    try (Connection conn = nodes.connect(i); Statement st = conn.createStatement()) {
                        st.execute("ALTER SYSTEM SET synchronous_standby_names = 'chorus_capture_chorus_" + database + "'");
                        st.execute("SELECT pg_reload_conf()");
                    }
                }
            }
            nodes.startSidecars();
            c.enable(enabled, mode);
        } catch (RuntimeException | SQLException e) {
            c.close();
            throw e;
        }
        LOG.info("cluster of {} nodes ({} enabled) ONLINE in {}", n, enabled, nodes.directory());
        return c;
    }

    /** Enables node {@code i} (not bootstrapping, mode async) and returns at once; follow with {@link #awaitOnline}. */
    public void enableNode(int i) throws SQLException {
        enableNode(i, false, "async");
    }

    private void enableNode(int i, boolean bootstrap, String mode) throws SQLException {
        try (Connection c = connect(i)) {
            Await.until("node" + i + "'s sidecar to install the chorus schema (log " + nodes.sidecarLog(i) + ")",
                    Duration.ofSeconds(90), () -> "true".equals(Sql.one(c, "SELECT (to_regclass('chorus.node_state') IS NOT NULL "
                            + "AND exists(SELECT 1 FROM pg_proc WHERE proname = 'sync_wait') "
                            + "AND coalesce(chorus._sidecar_age() < 5, false))::text")));
            Sql.one(c, "SELECT chorus.enable('" + nodes.group() + "', " + bootstrap + ", '" + mode + "')");
        }
    }

    private void enable(int enabled, String mode) throws SQLException {
        for (int i = 1; i <= enabled; i++) {
            enableNode(i, i == 1, mode);
            if (i == 1) {
                // the others must join the group node1 forms (alone it is NON_PRIMARY until a majority joins)
                Await.until("node1 to form the group (state ONLINE or NON_PRIMARY; log " + nodes.sidecarLog(1) + ")",
                        Duration.ofSeconds(120), () -> List.of("ONLINE", "NON_PRIMARY").contains(status(1).state()));
            }
        }
        for (int i = 1; i <= enabled; i++) {
            awaitOnline(i, Duration.ofSeconds(120));
        }
    }

    /** Blocks until node {@code i} reports ONLINE, or fails with its status and sidecar log path. */
    public void awaitOnline(int i, Duration timeout) throws SQLException {
        try (Connection c = connect(i)) {
            // a sidecar that was just (re)started publishes its first heartbeat after a few seconds; until then the
            // state in chorus.node_state is the one its killed predecessor left (ONLINE, say): wait for a heartbeat
            // published after this call, so that wait_ready judges the running sidecar
            String since = Sql.one(c, "SELECT clock_timestamp()::text");
            Await.until("node" + i + "'s sidecar to publish a heartbeat after " + since + " (log " + nodes.sidecarLog(i) + ")",
                    timeout, () -> "true".equals(Sql.one(c, "SELECT coalesce(heartbeat > '" + since
                            + "'::timestamptz, false)::text FROM chorus.node_state")));
            Sql.one(c, "SELECT chorus.wait_ready('ONLINE', '" + timeout.toSeconds() + " s')");
        } catch (SQLException e) {
            throw new IllegalStateException("node" + i + " did not come ONLINE within " + timeout.toSeconds() + " s: "
                    + e.getMessage() + " (sidecar log: " + nodes.sidecarLog(i) + ")", e);
        }
    }

    /**
     * Two rounds of {@code chorus.sync_wait} on every node with a running sidecar: afterwards every node has applied
     * everything ordered before. Returns the failures (node → error text); empty when every node passed.
     */
    public Map<String, String> barrier(Duration perNode) {
        Map<String, String> failures = new LinkedHashMap<>();
        for (int round = 0; round < 2; round++) {
            for (int i = 1; i <= size(); i++) {
                if (!nodes.sidecarAlive(i) || failures.containsKey("node" + i)) {
                    continue;
                }
                try (Connection c = connect(i)) {
                    // a stopped node fails sync_wait at once; a running one may take up to perNode
                    Sql.one(c, "SELECT chorus.sync_wait('" + perNode.toSeconds() + " s')::text");
                } catch (SQLException e) {
                    failures.put("node" + i, "sync_wait failed [" + e.getSQLState() + "]: " + e.getMessage());
                }
            }
        }
        return failures;
    }

    /** chorus.status() of node {@code i}. */
    public NodeStatus status(int i) throws SQLException {
        try (Connection c = connect(i); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT node, state, phase, watermark, lag_gsn, conflicts, last_error FROM chorus.status()")) {
            rs.next();
            return new NodeStatus("node" + i, rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                    rs.getLong(6), rs.getString(7));
        }
    }

    /** chorus.status() of every node; a node whose server cannot be reached is reported as UNREACHABLE. */
    public List<NodeStatus> statuses() {
        List<NodeStatus> out = new ArrayList<>();
        for (int i = 1; i <= size(); i++) {
            try {
                out.add(status(i));
            } catch (SQLException e) {
                out.add(new NodeStatus("node" + i, "UNREACHABLE", null, -1, -1, -1, e.getMessage()));
            }
        }
        return out;
    }

    public Connection connect(int i) throws SQLException {
        return nodes.connect(i);
    }

    /** node name → open connection for every node (the caller closes them). */
    public Map<String, Connection> connectAll() throws SQLException {
        return nodes.connectAll();
    }

    public int size() {
        return nodes.size();
    }

    /** The nodes' servers and sidecars, whichever the backend: for faults and logs. */
    public ClusterNodes nodes() {
        return nodes;
    }

    /**
     * The local backend's cluster, for what only it offers (process ids, embedded servers); fails with the fix when
     * the cluster runs on another backend.
     */
    public LocalCluster local() {
        if (nodes instanceof LocalNodes l) {
            return l.cluster();
        }
        throw new IllegalStateException("this check needs the local backend (sidecars as processes of this host); "
                + "run it with -D" + ClusterNodes.BACKEND_PROPERTY + "=local");
    }

    /**
     * Crashes nodes one after the other in the given order (1-based): kill -9 of the sidecar, then an immediate stop
     * of its PostgreSQL (no checkpoint). A whole-cluster stop when every node is named.
     */
    public void crash(int... order) throws InterruptedException {
        for (int i : order) {
            local().killSidecar(i);
            local().server(i).stop(io.chorus.testkit.PgServer.StopMode.IMMEDIATE);
            LOG.info("node{} crashed (sidecar killed, PostgreSQL stopped immediately)", i);
        }
    }

    /**
     * Starts crashed nodes one after the other in the given order: PostgreSQL, then the sidecar, which rejoins every
     * database it had enabled. Returns at once; follow with {@link #awaitOnline}.
     */
    public void restart(int... order) {
        for (int i : order) {
            local().server(i).start();
            nodes.startSidecar(i);
            LOG.info("node{} restarted", i);
        }
    }

    /** The namespaces the sidecars run in, or null on loopback. */
    public NetNamespaces namespaces() {
        return namespaces;
    }

    /** Stops every sidecar and server; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            nodes.close();
        }
    }
}
