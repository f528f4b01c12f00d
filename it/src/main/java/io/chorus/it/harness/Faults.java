package io.chorus.it.harness;

import io.chorus.testkit.PgServer.StopMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Faults injected into a running {@link ChorusCluster}: sidecar crash and restart, freeze, slow node, PostgreSQL
 * restart (fast and immediate), termination of the apply helpers' and the walsender's backends, partition of the
 * group links (a real network cut in namespaces, the gcs fault hook on loopback). Each method blocks until the fault is in place and logs it at INFO. One thread drives it.
 */
public final class Faults implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Faults.class);
    /** Failure detection (8 s silence, 1 s verification) and a new leader election, with room for a loaded host. */
    private static final Duration PARTITION_DETECTION = Duration.ofSeconds(90);
    /** Merge rounds every 2-6 s, then the minority catches up on the log. */
    private static final Duration MERGE = Duration.ofSeconds(120);
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

    /**
     * pg_terminate_backend of every apply helper of node {@code i} (application_name {@code chorus_h<N>} or, per
     * database, {@code chorus_<hash>_h<N>}); returns how many. Fails when there is none: the fault would do nothing.
     */
    public int terminateHelpers(int i) throws SQLException {
        int n = terminate(i, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                + "WHERE application_name ~ '^chorus_([0-9a-f]+_)?h[0-9]+$' AND pid <> pg_backend_pid()");
        LOG.info("node{}: {} apply helper backends terminated", i, n);
        return requireSome(n, i, "apply helper backends (application_name chorus_*_h<N>)");
    }

    /** pg_terminate_backend of node {@code i}'s walsenders that serve the sidecar's logical slots; returns how many. */
    public int terminateWalsender(int i) throws SQLException {
        int n = terminate(i, "SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots "
                + "WHERE active_pid IS NOT NULL AND slot_type = 'logical'");
        LOG.info("node{}: {} walsender backends terminated", i, n);
        return requireSome(n, i, "walsenders of logical slots");
    }

    private static int requireSome(int n, int i, String what) {
        if (n == 0) {
            throw new IllegalStateException("node" + i + " has no " + what + " to terminate: the fault would do "
                    + "nothing; check that the sidecar runs and how it names its connections");
        }
        return n;
    }

    /**
     * Runs a terminating query until it terminates at least one backend, for up to 30 s: a sidecar reconnecting
     * after an earlier fault has no such backend for a moment.
     */
    private int terminate(int i, String sql) {
        int[] n = {0};
        try {
            Await.until("node" + i + " to have a backend for: " + sql, Duration.ofSeconds(30), () -> {
                try (Connection c = cluster.connect(i)) {
                    n[0] = (int) Sql.number(c, sql);
                }
                return n[0] > 0;
            });
        } catch (RuntimeException | AssertionError e) {
            LOG.warn("node{}: nothing to terminate: {}", i, e.getMessage());
        }
        return n[0];
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

    /**
     * Cuts the group links between the two sides. In network namespaces the network itself is cut; otherwise every
     * sidecar drops all group traffic from the other side (the gcs fault hook, through the sidecars' test fault
     * control), which returns once every sidecar acknowledged and a side without a majority reports NON_PRIMARY while
     * a side with one is ONLINE. The servers stay reachable: local writes go on where the policy accepts them.
     */
    public void partition(List<Integer> sideA, List<Integer> sideB) throws InterruptedException, SQLException {
        if (cluster.namespaces() != null) {
            cluster.namespaces().partition(sideA, sideB);
            return;
        }
        for (int i : sideA) {
            cluster.nodes().cutGroupTraffic(i, sideB);
        }
        for (int i : sideB) {
            cluster.nodes().cutGroupTraffic(i, sideA);
        }
        LOG.info("partition {} | {}: every sidecar drops the other side's group traffic", sideA, sideB);
        awaitStates(sideA, sideB, PARTITION_DETECTION);
        LOG.info("partition {} | {} in place: {}", sideA, sideB, cluster.statuses());
    }

    /**
     * Removes every partition. On loopback, returns once every node is ONLINE again (the sides merged); every
     * sidecar must be running.
     */
    public void heal() throws InterruptedException, SQLException {
        if (cluster.namespaces() != null) {
            cluster.namespaces().heal();
            return;
        }
        List<Integer> all = new ArrayList<>();
        for (int i = 1; i <= cluster.size(); i++) {
            cluster.nodes().cutGroupTraffic(i, List.of());
            all.add(i);
        }
        LOG.info("partition healed: no sidecar drops group traffic");
        awaitStates(all, List.of(), MERGE);
        LOG.info("every node ONLINE after the heal");
    }

    /** Waits until the side with a majority (if any) is ONLINE and a side without one is NON_PRIMARY. */
    private void awaitStates(List<Integer> sideA, List<Integer> sideB, Duration timeout) {
        int majority = cluster.size() / 2 + 1;
        Map<Integer, String> expected = new TreeMap<>();
        sideA.forEach(i -> expected.put(i, sideA.size() >= majority ? "ONLINE" : "NON_PRIMARY"));
        sideB.forEach(i -> expected.put(i, sideB.size() >= majority ? "ONLINE" : "NON_PRIMARY"));
        try {
            Await.until("node states " + expected, timeout, () -> {
                for (Map.Entry<Integer, String> e : expected.entrySet()) {
                    if (!e.getValue().equals(cluster.status(e.getKey()).state())) {
                        return false;
                    }
                }
                return true;
            });
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "; the nodes report " + cluster.statuses(), e);
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
