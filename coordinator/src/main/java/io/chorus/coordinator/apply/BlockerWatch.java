package io.chorus.coordinator.apply;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Keeps the head of the line moving (DESIGN §4). Keys keep conflicting changesets apart, but a trigger, an index or an
 * extension can still make the head wait for a row lock held by a later helper, which itself waits to commit after
 * the head: a deadlock PostgreSQL cannot see. While the head has an open transaction for longer than
 * {@link ApplierConfig#blockerPoll()}, this watch asks PostgreSQL which backends block it
 * ({@code pg_blocking_pids}); every later helper among them is asked to yield and its running statement is cancelled,
 * so it rolls back and re-runs after the head commits.
 *
 * <p>Runs on its own thread with its own connection; thread-safe entry point {@link #stop()}.
 */
final class BlockerWatch implements Runnable {
    private static final Logger LOG = LogManager.getLogger(BlockerWatch.class);

    private final ApplierConfig config;
    private final Sequencer sequencer;
    private volatile boolean stopped;
    private Connection connection;

    BlockerWatch(ApplierConfig config, Sequencer sequencer) {
        this.config = config;
        this.sequencer = sequencer;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        long poll = config.blockerPoll().toNanos();
        boolean warned = false;
        try {
            while (!stopped && !sequencer.aborted()) {
                sequencer.pause(poll);
                try {
                    checkHead(poll);
                    warned = false;
                } catch (SQLException | RuntimeException e) {
                    if (!warned) {
                        LOG.warn("cannot check whether the head of the line is blocked ({}); retrying every {} ms",
                                e instanceof SQLException se ? SqlErrors.describe(se) : e.toString(), config.blockerPoll().toMillis());
                        warned = true;
                    }
                    closeConnection();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeConnection();
        }
    }

    private void checkHead(long poll) throws SQLException {
        Batch head = sequencer.head();
        int pid = head == null ? 0 : head.backendPid();
        if (pid == 0 || System.nanoTime() - head.executingSinceNanos() < poll) {
            return;
        }
        Set<Integer> blockers = blockersOf(pid);
        if (blockers.isEmpty()) {
            return;
        }
        for (Batch later : sequencer.inFlight()) {
            int laterPid = later.backendPid();
            if (later != head && laterPid != 0 && blockers.contains(laterPid)) {
                LOG.info("hidden conflict: head of the line {} waits for a lock of later {} (backend {}); rolling the "
                        + "later one back", head, later, laterPid);
                later.requestYield();
                cancel(laterPid);
                sequencer.poke();
            }
        }
    }

    private Set<Integer> blockersOf(int pid) throws SQLException {
        Set<Integer> pids = new HashSet<>();
        try (PreparedStatement ps = connection().prepareStatement("SELECT pg_blocking_pids(?)")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    Array a = rs.getArray(1);
                    for (Object o : (Object[]) a.getArray()) {
                        pids.add(((Number) o).intValue());
                    }
                }
            }
        }
        return pids;
    }

    private void cancel(int pid) throws SQLException {
        try (PreparedStatement ps = connection().prepareStatement("SELECT pg_cancel_backend(?)")) {
            ps.setInt(1, pid);
            ps.execute();
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = DriverManager.getConnection(config.jdbcUrl());
            connection.setAutoCommit(true);
        }
        return connection;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.trace("closing the blocker watch connection failed: {}", e.toString());
            }
            connection = null;
        }
    }
}
