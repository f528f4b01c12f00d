package io.chorus.it.bench;

import io.chorus.it.harness.Sql;
import io.chorus.it.workload.WorkloadRunner;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Client threads running one {@link BenchLoad} at full speed against a set of nodes until {@link #stop()}; counts
 * commits and locally refused transactions (serialization/deadlock). A connection error ends that client and is
 * recorded. Thread-safe counters.
 */
final class LoadDriver {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();

    /** Starts {@code clients} threads on each of {@code nodes} (1-based numbers passed to {@code source}). */
    static LoadDriver start(BenchLoad load, WorkloadRunner.Nodes source, List<Integer> nodes, int clients, int run, long seed) {
        LoadDriver d = new LoadDriver();
        for (int node : nodes) {
            for (int k = 0; k < clients; k++) {
                long base = ((long) run << 48) | ((long) node << 40) | ((long) k << 32);
                Random rnd = new Random(seed + base);
                Thread t = new Thread(() -> d.drive(load, source, node, base, rnd), "bench-" + load.label + "-node" + node + "-" + k);
                t.setDaemon(true);
                d.threads.add(t);
            }
        }
        d.threads.forEach(Thread::start);
        return d;
    }

    private void drive(BenchLoad load, WorkloadRunner.Nodes source, int node, long base, Random rnd) {
        try (Connection c = source.open(node)) {
            c.setAutoCommit(false);
            for (long n = 1; running.get(); n++) {
                try {
                    load.transaction(c, rnd, base + n);
                    c.commit();
                    committed.incrementAndGet();
                } catch (SQLException e) {
                    c.rollback();
                    if (!Sql.refusedLocally(e)) {
                        throw e;
                    }
                    refused.incrementAndGet();
                }
            }
        } catch (SQLException e) {
            synchronized (errors) {
                errors.add(Thread.currentThread().getName() + ": " + e.getMessage());
            }
        }
    }

    long committed() {
        return committed.get();
    }

    long refused() {
        return refused.get();
    }

    /** Stops every client after its current transaction and joins them (30 s each at most); returns the errors. */
    List<String> stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(30_000);
        }
        synchronized (errors) {
            return List.copyOf(errors);
        }
    }
}
