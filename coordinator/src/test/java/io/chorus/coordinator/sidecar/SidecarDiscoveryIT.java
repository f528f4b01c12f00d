package io.chorus.coordinator.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.NodeId;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.testkit.PgServer;
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
import org.junit.jupiter.api.Test;

/**
 * {@code databases: ["*"]}: a sidecar serves the databases of its instance as they come and go — a database created
 * after start gets the SQL surface and a heartbeat within seconds; a dropped one is let go.
 */
class SidecarDiscoveryIT {

    @Test
    void servesDatabasesCreatedAfterStartAndLetsDroppedOnesGo() throws Exception {
        try (PgServer pg = PgServer.start("discovery")) {
            pg.createDatabase("early");
            Path data = Files.createTempDirectory("chorus-discovery-");
            NodeConfig cfg = new NodeConfig(NodeId.of("node1"), data,
                    new NodeConfig.Postgres(pg.host(), pg.port(), "postgres", null, List.of(Sidecar.ALL_DATABASES)),
                    new NodeConfig.Group("127.0.0.1", 7800, Map.of("node1", "127.0.0.1:7800"), null, false,
                            Duration.ofSeconds(30), 1 << 20, Duration.ofHours(1)),
                    2, NodeConfig.Mode.ASYNC, Duration.ofSeconds(60));
            try (Sidecar sidecar = new Sidecar(cfg)) {
                sidecar.start();
                await("database early to be served with a heartbeat", () -> heartbeat(pg, "early"));
                pg.createDatabase("late");
                await("database late, created after start, to be served with a heartbeat", () -> heartbeat(pg, "late"));
                assertThat(sidecar.served()).contains("early", "late", "postgres");

                try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                    st.execute("DROP DATABASE late WITH (FORCE)");
                }
                await("database late to be let go", () -> !sidecar.served().contains("late"));
                assertThat(sidecar.served()).contains("early");
            }
        }
    }

    private static boolean heartbeat(PgServer pg, String db) {
        try (Connection c = pg.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT to_regclass('chorus.node_state') IS NOT NULL AND coalesce(chorus._sidecar_age() < 5, false)")) {
            return rs.next() && rs.getBoolean(1);
        } catch (SQLException e) {
            return false; // the schema is not there yet
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(condition::getAsBoolean);
    }
}
