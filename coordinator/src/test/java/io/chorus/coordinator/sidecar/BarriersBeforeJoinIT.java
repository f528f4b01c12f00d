package io.chorus.coordinator.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.coordinator.config.NodeConfig;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A read barrier ({@code chorus.sync_wait()}) and a DDL intent that the capture decodes while the domain replays its
 * group log, before its appender exists: both are ordered once the group is joined, behind the local commit written
 * before them, and the domain comes ONLINE. Written while the sidecar is down, they sit above the slot's confirmed
 * position, so the restarted domain's capture decodes them during its catch-up — before the catch-up ends, since it
 * waits for the capture to pass a message written after them (deterministic). One server, a group of one member.
 */
class BarriersBeforeJoinIT {
    private static final String DB = "app";
    private static final Duration WAIT = Duration.ofSeconds(120);

    @Test
    void barriersDecodedDuringTheCatchUpAreOrderedOnceTheGroupIsJoined() throws Exception {
        try (PgServer pg = PgServer.start("barriers-before-join")) {
            pg.createDatabase(DB);
            try (Connection c = pg.connect(DB); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE events (id int PRIMARY KEY)");
            }
            NodeConfig cfg = OneNodeSidecars.config(pg, DB, "barriers");
            try (Sidecar sidecar = new Sidecar(cfg)) {
                sidecar.start();
                OneNodeSidecars.await("the chorus schema and a heartbeat in " + DB, WAIT,
                        () -> OneNodeSidecars.heartbeat(pg, DB));
                try (Connection c = pg.connect(DB); Statement st = c.createStatement()) {
                    st.execute("SELECT chorus.enable('barriers', true, 'async')");
                    st.execute("SELECT chorus.wait_ready('ONLINE', '120 s')");
                }
            }

            String barrier = UUID.randomUUID().toString();
            String intent = "ddl:" + UUID.randomUUID() + ":1:1:1"; // a transaction long gone: released after its grant
            Timestamp down;
            try (Connection c = pg.connect(DB); Statement st = c.createStatement()) {
                st.execute("INSERT INTO events VALUES (1)");
                emit(c, intent);
                emit(c, barrier);
                st.execute("INSERT INTO events VALUES (2)"); // flushes the messages before PostgreSQL 17
                down = now(c);
            }

            try (Sidecar sidecar = new Sidecar(cfg); Connection c = pg.connect(DB)) {
                sidecar.start();
                OneNodeSidecars.await("the restarted domain ONLINE with both barriers answered, or FAILED", WAIT, () -> {
                    Map<String, String> s = nodeState(c, down);
                    return "FAILED".equals(s.get("state")) || "ONLINE".equals(s.get("state"))
                            && answered(c).keySet().containsAll(List.of(barrier, intent));
                });
                Map<String, String> s = nodeState(c, down);
                assertThat(s.get("state")).as("state after the restart (last error: %s)", s.get("last_error"))
                        .isEqualTo("ONLINE");
                Map<String, Long> gsns = answered(c);
                assertThat(gsns).as("barriers decoded before the join, answered with their GSN")
                        .containsKeys(barrier, intent);
                assertThat(gsns.get(barrier)).as("GSN of the read barrier").isPositive();

                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT chorus.sync_wait('60 s')")) {
                    assertThat(rs.next()).as("a new sync_wait answered").isTrue();
                }
                s = nodeState(c, down);
                assertThat(s.get("state")).as("state after a new barrier (last error: %s)", s.get("last_error"))
                        .isEqualTo("ONLINE");
            }
        }
    }

    /** What {@code chorus.sync_wait()} and the DDL intent trigger write: a non-transactional message. */
    private static void emit(Connection c, String token) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pg_logical_emit_message(false, 'chorus_sync_wait', ?)")) {
            ps.setString(1, token);
            ps.execute();
        }
    }

    private static Timestamp now(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }

    /** The state and last error a sidecar published after {@code since} (empty before its first heartbeat since). */
    private static Map<String, String> nodeState(Connection c, Timestamp since) {
        Map<String, String> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT state, last_error FROM chorus.node_state WHERE heartbeat > ?")) {
            ps.setTimestamp(1, since);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    out.put("state", rs.getString(1));
                    out.put("last_error", rs.getString(2));
                }
            }
        } catch (SQLException e) {
            out.put("last_error", e.getMessage());
        }
        return out;
    }

    /** Barriers the sidecar answered (applied here): token → GSN (empty when the table cannot be read). */
    private static Map<String, Long> answered(Connection c) {
        Map<String, Long> out = new HashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT token, gsn FROM chorus.barriers WHERE applied_at IS NOT NULL")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            out.clear();
        }
        return out;
    }
}
