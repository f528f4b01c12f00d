package io.chorus.it.workload;

import io.chorus.it.harness.Await;
import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs workloads on every node: per node and workload, {@code writers} threads, each with its own connection and a
 * generator seeded from (seed, node, workload, writer), until the duration ends, the per-writer transaction limit is
 * reached or {@link #stop()} is called. A writer whose connection breaks (server restart, terminated backend)
 * records the transaction in doubt and reconnects within 60 s. Thread-safe counters; {@link #stop()} joins.
 */
public final class WorkloadRunner {
    private static final Logger LOG = LogManager.getLogger(WorkloadRunner.class);
    private static final Duration RECONNECT = Duration.ofSeconds(60);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong committed = new AtomicLong();
    /** Commits per node, index 0 unused. */
    private final AtomicLongArray committedOn;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong inDoubt = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();

    /** Opens a connection to node {@code i} (1-based). */
    @FunctionalInterface
    public interface Nodes {
        Connection open(int node) throws SQLException;
    }

    /** Starts the writers and returns at once; the seed is logged so a run can be replayed. */
    public static WorkloadRunner start(int run, List<Workload> workloads, Nodes nodes, int nodeCount, int writers, long seed,
                                       Duration duration, long maxPerWriter) {
        WorkloadRunner r = new WorkloadRunner(nodeCount);
        long end = System.nanoTime() + duration.toNanos();
        LOG.info("run {}: workloads {} on {} nodes, {} writers each, seed {}, {} s", run, workloads.stream().map(Workload::name).toList(),
                nodeCount, writers, seed, duration.toSeconds());
        for (int node = 1; node <= nodeCount; node++) {
            for (int wl = 0; wl < workloads.size(); wl++) {
                for (int w = 0; w < writers; w++) {
                    Workload workload = workloads.get(wl);
                    Random rnd = new Random(seed * 1_000_003L + node * 10_007L + wl * 101L + w);
                    int n = node;
                    int index = wl * writers + w;
                    Thread t = new Thread(() -> r.write(run, workload, nodes, n, nodeCount, index, rnd, end, maxPerWriter),
                            "writer-" + workload.name() + "-node" + node + "-" + w);
                    t.setDaemon(true);
                    r.threads.add(t);
                }
            }
        }
        r.threads.forEach(Thread::start);
        return r;
    }

    private WorkloadRunner(int nodeCount) {
        committedOn = new AtomicLongArray(nodeCount + 1);
    }

    private void write(int run, Workload workload, Nodes nodes, int node, int nodeCount, int index, Random rnd, long end, long max) {
        Connection c = null;
        try {
            for (long seq = 1; seq <= max && running.get() && System.nanoTime() < end; seq++) {
                if (c == null) {
                    c = connect(nodes, node);
                    if (c == null) {
                        return; // stopped while reconnecting
                    }
                }
                if (!one(workload, c, rnd, new Workload.Writer(run, node, nodeCount, index, seq))) {
                    close(c);
                    c = null;
                }
            }
        } catch (SQLException | RuntimeException e) {
            synchronized (errors) {
                errors.add(workload.name() + " writer " + index + " on node" + node + ": " + e.getMessage());
            }
        } finally {
            close(c);
        }
    }

    /** One transaction; false when the connection broke (the caller reconnects). */
    private boolean one(Workload workload, Connection c, Random rnd, Workload.Writer w) throws SQLException {
        Object token = null;
        boolean committing = false;
        try {
            token = workload.transaction(c, rnd, w);
            committing = true;
            c.commit();
            committed.incrementAndGet();
            committedOn.incrementAndGet(w.node());
            workload.committed(token);
            return true;
        } catch (SQLException e) {
            if (Sql.connectionLost(e)) {
                if (committing) {
                    inDoubt.incrementAndGet();
                    workload.inDoubt(token);
                }
                return false;
            }
            c.rollback();
            if (Sql.refusedLocally(e)) {
                refused.incrementAndGet();
                return true;
            }
            throw e;
        }
    }

    private Connection connect(Nodes nodes, int node) {
        Connection[] out = new Connection[1];
        Await.until("node" + node + "'s PostgreSQL to accept a writer connection", RECONNECT, () -> {
            if (!running.get()) {
                return true;
            }
            out[0] = nodes.open(node);
            out[0].setAutoCommit(false);
            return true;
        });
        return out[0];
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the connection is already broken
            }
        }
    }

    /** Blocks until every writer finished on its own (duration or limit reached), at most {@code timeout}. */
    public void await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        }
        if (threads.stream().anyMatch(Thread::isAlive)) {
            stop();
        }
    }

    /** Asks every writer to stop after its current transaction and joins them (30 s each at most). */
    public void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(30_000);
        }
    }

    public long committed() {
        return committed.get();
    }

    /** Transactions committed on node {@code node} (1-based). */
    public long committedOn(int node) {
        return committedOn.get(node);
    }

    public long refusedLocally() {
        return refused.get();
    }

    public long inDoubt() {
        return inDoubt.get();
    }

    public List<String> errors() {
        synchronized (errors) {
            return List.copyOf(errors);
        }
    }
}
