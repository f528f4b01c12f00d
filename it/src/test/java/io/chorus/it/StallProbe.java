package io.chorus.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures how long a writer can be stalled: one thread per node commits one small insert after another into
 * {@code stall_probe} and keeps the longest commit latency. The rows replicate like any other (they are part of the
 * convergence check). {@link #close()} stops and joins the threads.
 */
final class StallProbe implements AutoCloseable {
    private static final long PACE_NANOS = 20_000_000;
    static final String SCHEMA = "CREATE TABLE stall_probe (id bigint PRIMARY KEY, node int NOT NULL, at timestamptz NOT NULL DEFAULT now());\n";

    /** Opens a connection to node {@code i}. */
    interface Nodes {
        Connection open(int node) throws SQLException;
    }

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong longestNanos = new AtomicLong();
    private final AtomicLong commits = new AtomicLong();
    private final Thread[] threads;
    private volatile String error;

    StallProbe(Nodes nodes, int... nodeNumbers) {
        threads = new Thread[nodeNumbers.length];
        for (int k = 0; k < nodeNumbers.length; k++) {
            int node = nodeNumbers[k];
            threads[k] = new Thread(() -> run(nodes, node), "stall-probe-node" + node);
            threads[k].setDaemon(true);
            threads[k].start();
        }
    }

    private void run(Nodes nodes, int node) {
        try (Connection c = nodes.open(node);
             PreparedStatement ps = c.prepareStatement("INSERT INTO stall_probe (id, node) VALUES (?, ?)")) {
            for (long seq = 1; running.get(); seq++) {
                long t0 = System.nanoTime();
                ps.setLong(1, node * 1_000_000_000L + seq);
                ps.setInt(2, node);
                ps.executeUpdate();
                longestNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                commits.incrementAndGet();
                java.util.concurrent.locks.LockSupport.parkNanos(PACE_NANOS); // a steady writer, not a flood
            }
        } catch (SQLException e) {
            error = "probe on node" + node + ": [" + e.getSQLState() + "] " + e.getMessage();
        }
    }

    long longestMillis() {
        return longestNanos.get() / 1_000_000;
    }

    long commits() {
        return commits.get();
    }

    String error() {
        return error;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(30_000);
        }
    }
}
