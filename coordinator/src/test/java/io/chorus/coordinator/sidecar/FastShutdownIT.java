package io.chorus.coordinator.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.testkit.PgServer;
import io.chorus.testkit.PgServer.StopMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A fast shutdown of PostgreSQL while local sessions commit and the domain orders and applies them: the server waits
 * for the domain's logical walsender, which waits until the capture confirmed everything sent, which waits for the
 * applier, whose helpers the server refuses. The shutdown must finish within a bound (the domain lets go of its
 * replication connection), and once the server is back the domain must come back ONLINE by itself, holding every
 * acknowledged commit and ordering new ones, although more changesets were ordered above its watermark than the
 * group's hand-off queue holds (the restarted domain must go live while its group join applies its own log). One
 * server, a group of one member.
 */
class FastShutdownIT {
    private static final String DB = "app";
    private static final int WRITERS = 3;
    private static final Duration SHUTDOWN_BOUND = Duration.ofSeconds(45);

    @Test
    void fastShutdownUnderLoadFinishesAndTheDomainComesBackOnline() throws Exception {
        try (PgServer pg = PgServer.start("fastshutdown")) {
            pg.createDatabase(DB);
            try (Connection c = pg.connect(DB); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE events (writer int, seq int, PRIMARY KEY (writer, seq))");
            }
            try (Sidecar sidecar = new Sidecar(OneNodeSidecars.config(pg, DB, "fastshutdown"))) {
                sidecar.start();
                OneNodeSidecars.await("the chorus schema and a heartbeat in " + DB, Duration.ofSeconds(60),
                        () -> OneNodeSidecars.heartbeat(pg, DB));
                try (Connection c = pg.connect(DB); Statement st = c.createStatement()) {
                    st.execute("SELECT chorus.enable('fastshutdown', true, 'async')");
                    st.execute("SELECT chorus.wait_ready('ONLINE', '120 s')");
                }
                // the helpers cannot record progress while this session holds their rows: more changesets than the
                // group's hand-off queue takes (1,000) are ordered above W, as on a node whose applier lags far behind
                Connection holder = pg.connect(DB);
                holder.setAutoCommit(false);
                try (Statement st = holder.createStatement()) {
                    st.execute("SELECT * FROM chorus.apply_progress FOR UPDATE");
                }
                Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
                List<Thread> writers = startWriters(pg, acknowledged);
                OneNodeSidecars.await("1,500 changesets ordered above the watermark before the shutdown",
                        Duration.ofSeconds(120), () -> orderedAboveWatermark(pg) >= 1_500);

                long t0 = System.nanoTime();
                pg.stop(StopMode.FAST); // pg_ctl waits up to 60 s and fails when the server did not stop
                long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                System.out.println("FastShutdownIT: fast shutdown under load took " + stopMillis + " ms with "
                        + acknowledged.size() + " acknowledged commits");
                assertThat(pg.isRunning()).as("PostgreSQL stopped").isFalse();
                assertThat(Duration.ofMillis(stopMillis)).as("fast shutdown duration").isLessThan(SHUTDOWN_BOUND);
                for (Thread w : writers) {
                    w.join(TimeUnit.SECONDS.toMillis(30));
                    assertThat(w.isAlive()).as("writer %s stopped after the shutdown", w.getName()).isFalse();
                }
                holder.close(); // its backend ended with the server

                pg.start();
                try (Connection c = pg.connect(DB); Statement st = c.createStatement()) {
                    OneNodeSidecars.await("the domain to come back ONLINE after the restart", Duration.ofSeconds(120),
                            () -> "ONLINE".equals(stateAfterRestart(c)));
                    st.execute("INSERT INTO events VALUES (0, 1)");
                    try (ResultSet rs = st.executeQuery("SELECT chorus.sync_wait('60 s')")) {
                        assertThat(rs.next()).as("sync_wait answered").isTrue();
                    }
                    assertThat(missing(c, acknowledged)).as("acknowledged commits missing after the restart").isZero();
                    try (ResultSet rs = st.executeQuery("SELECT state, last_error FROM chorus.node_state")) {
                        rs.next();
                        assertThat(rs.getString(1)).as("state after the restart (last error: %s)", rs.getString(2))
                                .isEqualTo("ONLINE");
                    }
                }
            }
        }
    }

    private static List<Thread> startWriters(PgServer pg, Set<Long> acknowledged) {
        List<Thread> out = new ArrayList<>();
        for (int w = 1; w <= WRITERS; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                try (Connection c = pg.connect(DB);
                     PreparedStatement ps = c.prepareStatement("INSERT INTO events VALUES (?, ?)")) {
                    for (int seq = 1; seq <= 1_000_000; seq++) {
                        ps.setInt(1, writer);
                        ps.setInt(2, seq);
                        ps.executeUpdate();
                        acknowledged.add(((long) writer << 32) | seq);
                    }
                } catch (SQLException e) {
                    // the shutdown terminated the session: this writer is done (its last commit is in doubt)
                }
            }, "fastshutdown-writer-" + w);
            t.start();
            out.add(t);
        }
        return out;
    }

    /** Delivered minus applied, as the sidecar last published it (0 while unknown). */
    private static long orderedAboveWatermark(PgServer pg) {
        try (Connection c = pg.connect(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT delivered - watermark FROM chorus.node_state")) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            return 0;
        }
    }

    private static long missing(Connection c, Set<Long> acknowledged) throws SQLException {
        Set<Long> present = new java.util.HashSet<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT writer, seq FROM events")) {
            while (rs.next()) {
                present.add(((long) rs.getInt(1) << 32) | rs.getInt(2));
            }
        }
        return acknowledged.stream().filter(k -> !present.contains(k)).count();
    }

    /** The state the running sidecar published after the restart (null before its first heartbeat since then). */
    private static String stateAfterRestart(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT state FROM chorus.node_state WHERE heartbeat > pg_postmaster_start_time() + interval '1 s'")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            return null;
        }
    }
}
