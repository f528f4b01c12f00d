package io.chorus.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes on a joining node throughout its join: one insert after another into {@code joiner_writes}, each on the
 * same connection while it works. Keeps the ids that committed, the refusals (SQLSTATE 25006, the first message kept)
 * and counts every other failure (the table does not exist yet, a connection lost). A committed id must end up on
 * every node; a refused one nowhere. {@link #close()} stops and joins the thread.
 */
final class JoinerWriteProbe implements AutoCloseable {
    private static final long PACE_NANOS = 20_000_000;
    static final String SCHEMA = "CREATE TABLE joiner_writes (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());\n";

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Set<Long> committed = ConcurrentHashMap.newKeySet();
    private final Set<Long> refusedIds = ConcurrentHashMap.newKeySet();
    private final AtomicLong otherFailures = new AtomicLong();
    private final AtomicReference<String> refusal = new AtomicReference<>();
    private final Set<String> phases = ConcurrentHashMap.newKeySet();
    private final Thread thread;

    JoinerWriteProbe(StallProbe.Nodes nodes, int node) {
        thread = new Thread(() -> run(nodes, node), "joiner-write-probe-node" + node);
        thread.setDaemon(true);
        thread.start();
    }

    private void run(StallProbe.Nodes nodes, int node) {
        Connection c = null;
        for (long id = 1; running.get(); id++) {
            try {
                if (c == null) {
                    c = nodes.open(node);
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO joiner_writes (id) VALUES (?)")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                committed.add(id);
            } catch (SQLException e) {
                if (c != null && id % 10 == 0) {
                    recordPhase(c);
                }
                if ("25006".equals(e.getSQLState())) {
                    refusedIds.add(id);
                    refusal.compareAndSet(null, e.getMessage());
                } else {
                    otherFailures.incrementAndGet();
                    if (e.getSQLState() == null || e.getSQLState().startsWith("08")) {
                        closeQuietly(c);
                        c = null;
                    }
                }
            }
            java.util.concurrent.locks.LockSupport.parkNanos(PACE_NANOS); // a steady writer, not a flood
        }
        closeQuietly(c);
    }

    /** What chorus.status() says while writes fail (the state and its phase: the progress of the join). */
    private void recordPhase(Connection c) {
        try (java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT state || ': ' || coalesce(phase, '') FROM chorus.status()")) {
            if (rs.next()) {
                phases.add(rs.getString(1));
            }
        } catch (SQLException e) {
            // no status yet (the schema is installed by the sidecar): the next one
        }
    }

    /** The distinct "STATE: phase" lines chorus.status() showed while the joiner's writes failed. */
    Set<String> phases() {
        return Set.copyOf(phases);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // the probe's connection is gone either way
            }
        }
    }

    Set<Long> committed() {
        return Set.copyOf(committed);
    }

    Set<Long> refusedIds() {
        return Set.copyOf(refusedIds);
    }

    /** The first refusal's message, or null when no write was refused. */
    String refusal() {
        return refusal.get();
    }

    long otherFailures() {
        return otherFailures.get();
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(30_000);
    }
}
