package io.chorus.coordinator.sidecar;

import io.chorus.changeset.NodeId;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.testkit.PgServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;

/** What the tests of one sidecar beside one server share: its configuration (a group of one), its heartbeat, waits. */
final class OneNodeSidecars {
    private OneNodeSidecars() {
    }

    /** node1 serving {@code database} of {@code pg} in a group of one on a free port, with a fresh data folder. */
    static NodeConfig config(PgServer pg, String database, String group) throws Exception {
        Path data = Files.createTempDirectory("chorus-" + group + "-");
        int base = freePort() - NodeConfig.Group.portOffset(group);
        return new NodeConfig(NodeId.of("node1"), data,
                new NodeConfig.Postgres(pg.host(), pg.port(), "postgres", null, List.of(database)),
                new NodeConfig.Group("127.0.0.1", base, Map.of("node1", "127.0.0.1:" + base), null, false,
                        Duration.ofSeconds(30), 1L << 30, Duration.ofHours(24)), // no compaction: one member has no donor
                4, NodeConfig.Mode.ASYNC, Duration.ofSeconds(60));
    }

    /** Whether {@code database} has the chorus schema and a sidecar heartbeat younger than 5 s. */
    static boolean heartbeat(PgServer pg, String database) {
        try (Connection c = pg.connect(database); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT to_regclass('chorus.node_state') IS NOT NULL AND coalesce(chorus._sidecar_age() < 5, false)")) {
            return rs.next() && rs.getBoolean(1);
        } catch (SQLException e) {
            return false; // the schema is not there yet
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        Awaitility.await(what).atMost(timeout).pollInterval(Duration.ofMillis(100)).until(condition::getAsBoolean);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
