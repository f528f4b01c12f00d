package io.chorus.it.harness;

import io.chorus.coordinator.demo.LocalCluster;
import io.chorus.coordinator.demo.NodeNetwork;
import io.chorus.testkit.PgServer.StopMode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The machines of a test cluster: for each node (1-based) a PostgreSQL server with the replicated database and a
 * sidecar, with the faults a test injects into them. Two backends: {@link LocalNodes} (embedded servers and sidecar
 * processes on this host, the default) and {@link ContainerNodes} (a PostgreSQL container and a sidecar container
 * per node, for hosts with a Docker engine), chosen with {@code -Dchorus.backend=local|containers}. Methods block
 * until the change is in place; one thread drives the nodes.
 */
public interface ClusterNodes extends AutoCloseable {
    /** The system property that chooses the backend. */
    String BACKEND_PROPERTY = "chorus.backend";

    /**
     * Starts {@code n} servers, each with {@code database}, and prepares (does not start) their sidecars, all in one
     * group named after the database. {@code network} places local nodes (null: loopback); the container backend
     * has its own network and refuses another.
     */
    static ClusterNodes create(int n, String database, NodeNetwork network) throws SQLException {
        String backend = System.getProperty(BACKEND_PROPERTY, "local");
        switch (backend) {
            case "local":
                return new LocalNodes(LocalCluster.create(n, database, database, network == null ? NodeNetwork.LOOPBACK : network));
            case "containers":
                if (network != null && network != NodeNetwork.LOOPBACK) {
                    throw new IllegalStateException("the container backend puts its nodes on a Docker network of its own; "
                            + "this test needs network namespaces, run it with -D" + BACKEND_PROPERTY + "=local");
                }
                return ContainerNodes.create(n, database);
            default:
                throw new IllegalArgumentException("-D" + BACKEND_PROPERTY + "=" + backend
                        + " is not a backend; use local (embedded servers, the default) or containers (needs Docker)");
        }
    }

    int size();

    String database();

    String group();

    /** A folder of this cluster on this host: configurations, logs. */
    Path directory();

    /** Node {@code i}'s sidecar output, as a file on this host (brought up to date by the call). */
    Path sidecarLog(int i);

    /** A new connection to node {@code i}'s replicated database (the caller closes it). */
    Connection connect(int i) throws SQLException;

    /** node name → open connection to the replicated database, for every node (the caller closes them). */
    default Map<String, Connection> connectAll() throws SQLException {
        Map<String, Connection> out = new LinkedHashMap<>();
        for (int i = 1; i <= size(); i++) {
            out.put("node" + i, connect(i));
        }
        return out;
    }

    /** Rewrites node {@code i}'s sidecar configuration (YAML text); takes effect at the sidecar's next start. */
    void editConfig(int i, UnaryOperator<String> edit);

    /** Starts every sidecar. */
    default void startSidecars() {
        for (int i = 1; i <= size(); i++) {
            startSidecar(i);
        }
    }

    /** Starts (or restarts) node {@code i}'s sidecar. */
    void startSidecar(int i);

    /** Kills node {@code i}'s sidecar with SIGKILL (a crash) and returns once it is gone. */
    void killSidecar(int i) throws InterruptedException;

    /** Freezes node {@code i}'s sidecar: it neither captures, orders nor applies until {@link #resumeSidecar}. */
    void pauseSidecar(int i);

    /** Thaws a sidecar frozen by {@link #pauseSidecar}. */
    void resumeSidecar(int i);

    /** Whether node {@code i}'s sidecar runs (a frozen one counts as running). */
    boolean sidecarAlive(int i);

    /**
     * Makes node {@code i}'s sidecar drop all group traffic it receives from the nodes {@code from} (empty: heal),
     * through its test fault control, and returns once the sidecar acknowledged that its groups took the cut. Applied
     * to both sides, this is a symmetric partition of the group links; the servers stay reachable.
     *
     * @throws IllegalStateException when the sidecar does not acknowledge in time or has no group to cut
     */
    void cutGroupTraffic(int i, java.util.List<Integer> from) throws InterruptedException;

    /** Restarts node {@code i}'s PostgreSQL ({@code IMMEDIATE} is a crash with recovery) and returns once it accepts connections. */
    void restartPostgres(int i, StopMode mode);

    /** Stops every sidecar and server; idempotent. */
    @Override
    void close();
}
