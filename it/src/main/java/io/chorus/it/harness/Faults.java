package io.chorus.it.harness;

import io.chorus.testkit.PgServer.StopMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Faults injected into a running {@link ChorusCluster}: sidecar crash and restart, freeze, slow node, PostgreSQL
 * restart (fast and immediate), termination of the apply helpers' and the walsender's backends, network partition
 * (namespaces only). Each method blocks until the fault is in place and logs it at INFO. One thread drives it.
 */
public final class Faults implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Faults.class);
    private final ChorusCluster cluster;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "chorus-fault-scheduler");
        t.setDaemon(true);
        return t;
    });

    public Faults(ChorusCluster cluster) {
        this.cluster = cluster;
    }

    public ChorusCluster cluster() {
        return cluster;
    }

    /** kill -9 of node {@code i}'s sidecar, then a fresh start; returns once the node is ONLINE again. */
    public void crashAndRestartSidecar(int i) throws InterruptedException, SQLException {
        cluster.nodes().killSidecar(i);
        LOG.info("node{}: sidecar killed (SIGKILL)", i);
        cluster.nodes().startSidecar(i);
        cluster.awaitOnline(i, Duration.ofSeconds(120));
        LOG.info("node{}: sidecar restarted and ONLINE", i);
    }

    /** Restarts node {@code i}'s PostgreSQL ({@code IMMEDIATE} is a crash with recovery). */
    public void restartPostgres(int i, StopMode mode) {
        cluster.nodes().restartPostgres(i, mode);
        LOG.info("node{}: PostgreSQL restarted ({})", i, mode);
    }

    /** pg_terminate_backend of every apply helper of node {@code i} (application_name chorus_h*); returns how many. */
    public int terminateHelpers(int i) throws SQLException {
        int n = terminate(i, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'chorus\\_h%' "
                + "AND pid <> pg_backend_pid()");
        LOG.info("node{}: {} apply helper backends terminated", i, n);
        return n;
    }

    /** pg_terminate_backend of node {@code i}'s walsenders that serve the sidecar's logical slots; returns how many. */
    public int terminateWalsender(int i) throws SQLException {
        int n = terminate(i, "SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots "
                + "WHERE active_pid IS NOT NULL AND slot_type = 'logical'");
        LOG.info("node{}: {} walsender backends terminated", i, n);
        return n;
    }

    private int terminate(int i, String sql) throws SQLException {
        try (Connection c = cluster.connect(i)) {
            return (int) Sql.number(c, sql);
        }
    }

    /**
     * Makes node {@code i} slow: its sidecar is frozen (SIGSTOP) for {@code frozen} out of every {@code period}, until
     * the returned handle is closed (which thaws it).
     */
    public AutoCloseable slowNode(int i, Duration frozen, Duration period) {
        AtomicBoolean stopped = new AtomicBoolean();
        ScheduledFuture<?> cycle = scheduler.scheduleAtFixedRate(() -> {
            cluster.nodes().pauseSidecar(i);
            scheduler.schedule(() -> cluster.nodes().resumeSidecar(i), frozen.toMillis(), TimeUnit.MILLISECONDS);
        }, 0, period.toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("node{}: slow (frozen {} ms of every {} ms)", i, frozen.toMillis(), period.toMillis());
        return () -> {
            if (stopped.compareAndSet(false, true)) {
                cycle.cancel(false);
                // the thaw is queued on the same single thread: it runs after any pending thaw
                scheduler.submit(() -> cluster.nodes().resumeSidecar(i)).get(30, TimeUnit.SECONDS);
                LOG.info("node{}: no longer slow", i);
            }
        };
    }

    /** Cuts the network between the two sides (needs {@link NetNamespaces}). */
    public void partition(List<Integer> sideA, List<Integer> sideB) {
        requireNamespaces().partition(sideA, sideB);
    }

    /** Removes every partition. */
    public void heal() {
        requireNamespaces().heal();
    }

    private NetNamespaces requireNamespaces() {
        if (cluster.namespaces() == null) {
            throw new IllegalStateException("partitions need a cluster started in network namespaces "
                    + "(ChorusCluster.start(..., NetNamespaces.create(n)))");
        }
        return cluster.namespaces();
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
