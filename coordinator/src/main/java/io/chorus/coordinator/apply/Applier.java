package io.chorus.coordinator.apply;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * Applies delivered changesets to one database through a pool of helper connections (DESIGN §2 step 4, §4).
 * Non-conflicting units run in parallel, consecutive units share transactions, and every transaction commits strictly
 * in GSN order, recording its highest GSN in its helper's replication origin atomically with the data. See the
 * package documentation for the protocol.
 *
 * <p>Thread-safe. {@link #submit} blocks while the bounded queue is full; {@link #awaitApplied} blocks up to its
 * timeout. After a persistent error the applier stops: {@link ApplyListener#onFailed} is called once, and
 * {@code submit}/{@code awaitApplied} throw the failure.
 */
public final class Applier implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Applier.class);
    private static final long JOIN_MILLIS = 5_000;

    private final ApplierConfig config;
    private final ApplyListener listener;
    private final UnitQueue queue;
    private final BlockingQueue<Helper> idle;
    private final Sequencer sequencer;
    private final ApplyMetrics metrics = new ApplyMetrics();
    private final Gsn startWatermark;
    private final Dispatcher dispatcher;
    private final BlockerWatch watch;
    private final List<Helper> helpers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Object submitLock = new Object();
    private final Object notifyLock = new Object();
    private long lastSubmitted;
    private long lastNotified;
    private volatile boolean closed;

    /**
     * Creates the bookkeeping schema if missing, reads the durable watermark, connects every helper and starts the
     * threads. Blocking.
     *
     * @throws ChorusException when the database cannot be reached or prepared (the message says which step)
     */
    public Applier(ApplierConfig config, ApplyListener listener) {
        this.config = config;
        this.listener = listener;
        this.queue = new UnitQueue(config.queueCapacity(), config.queueBytes());
        this.idle = new ArrayBlockingQueue<>(config.poolSize());
        this.startWatermark = prepare(config);
        this.lastSubmitted = startWatermark.value();
        this.lastNotified = startWatermark.value();
        this.sequencer = new Sequencer(startWatermark);
        this.dispatcher = new Dispatcher(config, queue, idle, sequencer);
        this.watch = new BlockerWatch(config, sequencer);
        try {
            connectHelpers();
        } catch (SQLException e) {
            helpers.forEach(Helper::disconnect);
            throw new ChorusException("applier cannot open helper connections to " + config + " ("
                    + SqlErrors.describe(e) + "); check that the role may set session_replication_role and use "
                    + "replication origins (superuser or pg_replication_origin_* grants)", e);
        }
        startThreads();
        LOG.info("applier started at W = {} with {}", startWatermark, config);
    }

    private static Gsn prepare(ApplierConfig config) {
        try (Connection c = DriverManager.getConnection(config.jdbcUrl())) {
            c.setAutoCommit(true);
            ApplySchema.ensure(c);
            return ApplyProgress.readWatermark(c, config.originPrefix());
        } catch (SQLException e) {
            throw new ChorusException("applier cannot prepare the database (schema chorus, watermark) at "
                    + config.toString() + ": " + SqlErrors.describe(e), e);
        }
    }

    private void connectHelpers() throws SQLException {
        Helper.Owner owner = new Helper.Owner() {
            @Override
            public void idle(Helper h) {
                idle.add(h);
            }

            @Override
            public void applied(Gsn upTo) {
                notifyApplied(upTo);
            }

            @Override
            public void failed(ChorusException reason) {
                notifyFailed(reason);
            }
        };
        for (int i = 0; i < config.poolSize(); i++) {
            Helper h = new Helper(i, config, sequencer, metrics, owner);
            helpers.add(h);
            connectWithin(h, config.retryWait());
        }
    }

    /** Connects a helper, waiting while a backend of a previous run still holds its origin (SQLState 55006). */
    private void connectWithin(Helper h, Duration limit) throws SQLException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try {
                h.connect();
                return;
            } catch (SQLException e) {
                if (!SqlErrors.OBJECT_IN_USE.equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw e;
                }
                LOG.debug("helper {}: origin still held by a previous backend; retrying", h.name());
                try {
                    sequencer.pause(TimeUnit.MILLISECONDS.toNanos(20));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Starts the threads; they inherit the creator's log context (node, database). */
    private void startThreads() {
        Map<String, String> context = ThreadContext.getImmutableContext();
        for (Helper h : helpers) {
            threads.add(new Thread(withContext(context, h), "chorus-apply-" + h.name()));
            idle.add(h);
        }
        threads.add(new Thread(withContext(context, dispatcher), "chorus-apply-dispatch-" + config.originPrefix()));
        threads.add(new Thread(withContext(context, watch), "chorus-apply-watch-" + config.originPrefix()));
        for (Thread t : threads) {
            t.setDaemon(true);
            t.start();
        }
    }

    private static Runnable withContext(Map<String, String> context, Runnable r) {
        return () -> {
            ThreadContext.putAll(context);
            r.run();
        };
    }

    /**
     * Queues the next unit. Units must come in GSN order, contiguous; a unit at or below the watermark found at start
     * is already applied and is ignored (re-delivery after a restart). Blocks while the queue is full (flow control).
     *
     * @throws IllegalArgumentException when the unit leaves a gap or goes backwards
     * @throws ChorusException          when the applier failed or is closed
     */
    public void submit(ApplyUnit unit) throws InterruptedException {
        synchronized (submitLock) {
            long g = unit.gsn().value();
            if (g <= startWatermark.value() && g <= lastSubmitted) {
                LOG.debug("GSN {} is already applied (W = {} at start); ignored", g, startWatermark);
                return;
            }
            if (g != lastSubmitted + 1) {
                throw new IllegalArgumentException("applier expects GSN " + (lastSubmitted + 1) + " next, got " + g
                        + ": units must be submitted in GSN order without gaps");
            }
            while (!queue.offer(unit, 100, TimeUnit.MILLISECONDS)) {
                checkRunning();
            }
            checkRunning();
            lastSubmitted = g;
        }
    }

    private void checkRunning() {
        ChorusException f = sequencer.failure();
        if (f != null) {
            throw new ChorusException("the applier stopped: " + f.getMessage(), f);
        }
        if (closed) {
            throw new ChorusException("the applier is closed; no more units are accepted");
        }
    }

    /**
     * The schema changed outside the applier (DDL committed by a local session): every helper drops its statement
     * and catalog caches before its next transaction. Non-blocking.
     */
    public void schemaChanged() {
        sequencer.schemaChanged();
    }

    /** The highest GSN committed in this database (every lower GSN is committed too). Non-blocking. */
    public Gsn appliedGsn() {
        return sequencer.committed();
    }

    /** The watermark read from the helper origins when this applier started. */
    public Gsn startWatermark() {
        return startWatermark;
    }

    /**
     * Blocks until {@code gsn} is committed, at most {@code timeout}.
     *
     * @throws ChorusException on timeout (retriable; the message gives the applier's state), or when the applier
     *                         failed (the failure is the cause) or was closed
     */
    /**
     * Mean milliseconds per batched transaction in each phase (writing its rows, the check against racing local
     * commits, waiting for its turn, committing) since the last call, or null when none committed; for DEBUG logs.
     */
    public String phases() {
        return metrics.phases();
    }

    public void awaitApplied(Gsn gsn, Duration timeout) throws InterruptedException {
        sequencer.awaitCommitted(gsn, timeout, this::state);
    }

    /** The applier's failure, or null while it runs. */
    public ChorusException failure() {
        return sequencer.failure();
    }

    public long appliedUnits() {
        return metrics.units.sum();
    }

    public long transactions() {
        return metrics.transactions.sum();
    }

    /** Row writes issued, counted per unit when its transaction commits. */
    public long rows() {
        return metrics.rows.sum();
    }

    /** Re-runs after retriable errors (lost connections, deadlocks, serialization failures). */
    public long retries() {
        return metrics.retries.sum();
    }

    /** Transactions rolled back to let the head of the line pass (hidden conflicts). */
    public long hiddenConflicts() {
        return metrics.yields.sum();
    }

    /** Batches re-run one unit per transaction to judge a doubtful row count or an error. */
    public long carefulReruns() {
        return metrics.rechecks.sum();
    }

    /** Batches whose re-run held this node's local writers after local commits raced them repeatedly. */
    public long localWriterHolds() {
        return metrics.holds.sum();
    }

    /** Re-runs that went on without holding local writers: those already writing did not finish in time. */
    public long localWriterHoldTimeouts() {
        return metrics.holdTimeouts.sum();
    }

    /**
     * Held re-runs that rolled back to let local writers go on: they waited for a lock longer than the hold's timeout
     * (a local transaction held it and waited at its trigger).
     */
    public long localWriterHoldsGivenWay() {
        return metrics.holdsGivenWay.sum();
    }

    /** The most transactions that were open at the same time (parallelism actually reached). */
    public int peakParallelism() {
        return sequencer.peakInFlight();
    }

    public int queueDepth() {
        return queue.size();
    }

    private String state() {
        return "applied=" + sequencer.committed() + ", submitted=" + lastSubmittedSafe() + ", queued=" + queue.size() + " (" + queue.bytes() / 1024 + " KiB)"
                + ", inFlight=" + sequencer.inFlightCount() + ", helpers=" + config.poolSize() + ", idleHelpers="
                + idle.size();
    }

    private long lastSubmittedSafe() {
        synchronized (submitLock) {
            return lastSubmitted;
        }
    }

    private void notifyApplied(Gsn upTo) {
        synchronized (notifyLock) {
            if (upTo.value() > lastNotified) {
                lastNotified = upTo.value();
                listener.onApplied(upTo);
            }
        }
    }

    private void notifyFailed(ChorusException reason) {
        if (sequencer.fail(reason)) {
            LOG.error("applier stopped at W = {}: {}", sequencer.committed(), reason.getMessage());
            listener.onFailed(reason);
        }
    }

    /**
     * Stops accepting units, lets the transactions already handed to helpers commit (up to
     * {@link ApplierConfig#retryWait()}), rolls back the
     * rest and closes every connection. Units still queued are not applied; they are re-delivered after a restart
     * because the watermark is durable. Blocking, idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        dispatcher.stop();
        try {
            if (!sequencer.awaitDrained(config.retryWait()) && sequencer.failure() == null) {
                LOG.warn("applier closing with transactions still in flight ({}); rolling them back", state());
            }
            boolean stuck = sequencer.inFlightCount() > 0;
            sequencer.abort();
            helpers.forEach(Helper::stop);
            watch.stop();
            if (stuck) {
                helpers.forEach(Helper::abortConnection);
            }
            for (Thread t : threads) {
                t.join(JOIN_MILLIS);
                if (t.isAlive()) {
                    LOG.warn("applier thread {} did not stop within {} ms", t.getName(), JOIN_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("applier closed at W = {} ({} units in {} transactions, {} retries, {} hidden conflicts)",
                sequencer.committed(), appliedUnits(), transactions(), retries(), hiddenConflicts());
    }
}
