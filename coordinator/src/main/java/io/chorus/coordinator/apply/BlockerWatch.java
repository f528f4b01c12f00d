package io.chorus.coordinator.apply;

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
 * ({@code pg_blocking_pids}, followed through the backends in between, e.g. a local DDL statement queued for its lock
 * behind a later helper); every later helper among them is asked to yield and its running statement is cancelled,
 * so it rolls back and re-runs after the head commits.
 *
 * <p>Runs on its own thread with its own connection; thread-safe entry point {@link #stop()}.
 */
final class BlockerWatch implements Runnable {
    private static final Logger LOG = LogManager.getLogger(BlockerWatch.class);
    /** How far a chain of waiting backends is followed from the head. */
    private static final int MAX_CHAIN = 8;

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

    /**
     * Every backend the head waits for, directly or through others: a local session's lock request (e.g. DDL waiting
     * for ACCESS EXCLUSIVE behind a later helper's lock) queues the head behind it, so a later helper can block the
     * head through a session in between.
     */
    private Set<Integer> blockersOf(int pid) throws SQLException {
        Set<Integer> pids = new HashSet<>();
        try (PreparedStatement ps = connection().prepareStatement("WITH RECURSIVE b(pid, depth) AS ("
                + "SELECT unnest(pg_blocking_pids(?)), 1 UNION SELECT unnest(pg_blocking_pids(b.pid)), b.depth + 1 "
                + "FROM b WHERE b.depth < " + MAX_CHAIN + ") SELECT DISTINCT pid FROM b")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
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
