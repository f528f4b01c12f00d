package io.chorus.coordinator.demo;

import io.chorus.testkit.PgServer;
import java.util.List;
import java.util.Map;

/**
 * Where the nodes of a {@link LocalCluster} live on the network: the address each sidecar's group endpoint binds to,
 * the address a sidecar reaches its PostgreSQL on, and a command prefix that places the sidecar's process (e.g.
 * {@code ip netns exec <ns>}). The default, {@link #LOOPBACK}, puts everything on 127.0.0.1. Implementations are
 * called from the thread that builds or (re)starts the cluster; they must not block for long.
 */
public interface NodeNetwork {
    /** Everything on 127.0.0.1, sidecars started directly. */
    NodeNetwork LOOPBACK = new NodeNetwork() {
    };

    /** The address node {@code i}'s (1-based) group endpoint binds to. */
    default String groupAddress(int i) {
        return "127.0.0.1";
    }

    /** The address node {@code i}'s sidecar connects to its PostgreSQL on. */
    default String postgresHost(int i) {
        return "127.0.0.1";
    }

    /** Extra postgresql.conf settings of node {@code i}'s server (e.g. {@code listen_addresses}). */
    default Map<String, String> postgresSettings(int i) {
        return Map.of();
    }

    /** Called once node {@code i}'s server accepts connections (e.g. to extend pg_hba.conf and reload). */
    default void postgresStarted(int i, PgServer server) {
    }

    /** Command words put before {@code java ...} when node {@code i}'s sidecar starts. */
    default List<String> launchPrefix(int i) {
        return List.of();
    }
}
