package io.chorus.coordinator.apply;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.TruncateChange;
import io.chorus.schema.DdlMessage;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * One helper: a thread that owns one {@link HelperSession} and runs the batches handed to it, committing each only when
 * every lower GSN has committed. A batch that must yield to the head of the line, or that met a retriable error, is
 * rolled back and re-run once it is itself the head; a batch that met anything else is re-run in careful mode (one
 * unit per transaction, one statement at a time) to commit every unit before the failing one and to pin the error to
 * its GSN; an error in careful mode stops the applier.
 *
 * <p><b>Holding local writers.</b> A batch that local commits raced is re-run with their restores first (see
 * {@link ApplyGuard}); on hot rows new local commits may race every re-run. From the
 * {@link ApplierConfig#holdAfterRaces()}-th race on, each re-run starts its transaction by taking the transfer hold's
 * advisory lock ({@code TransferHold.KEY}) exclusively, waiting at most {@link ApplierConfig#holdTimeout()}: every
 * local write statement on a replicated table asks for it shared in its {@code chorus_transfer_hold} trigger, so new
 * local writes wait until the re-run commits or rolls back (a transaction-level lock), while helpers (replica mode,
 * where the trigger does not fire) go on. When the wait times out the re-run goes on without the hold, as before:
 * the hold only bounds starvation and never stops the applier, and it never fails a local transaction:
 * <ul>
 *   <li>a re-run starts only once its batch is the head of the line (every lower GSN committed), so while holding the
 *       lock it never waits in Java for another helper's commit;</li>
 *   <li>while it waits for the lock it holds no row lock yet (the lock is its transaction's first statement), so the
 *       only waits on it are those of new local write statements; a cycle through a transaction PostgreSQL cannot see
 *       (a local transaction holding the shared lock and waiting, say, on a later helper that waits in Java for this
 *       batch, or on its own client) is broken by the lock timeout, after which the batch runs without the hold;</li>
 *   <li>a local statement waiting at its trigger already holds its table's ROW EXCLUSIVE lock, and may hold row locks
 *       its transaction took before (SELECT ... FOR UPDATE): so a batch that runs DDL or TRUNCATE (stronger table
 *       locks) is never held, and a held re-run waits at most the hold's timeout for any lock; then it rolls back,
 *       which lets the local statements go on, and re-runs once without the hold. The trigger waits for the lock by
 *       polling it ({@code pg_try_advisory_xact_lock_shared}), never in PostgreSQL's lock queue, so the server's
 *       deadlock detector never picks a local transaction as the victim of such a cycle;</li>
 *   <li>a donor's hold takes the same lock in session mode: whichever waits, waits at most its own timeout.</li>
 * </ul>
 *
 * <p>Thread-safe entry points: {@link #assign}, {@link #stop}. Everything else runs on the helper's own thread.
 */
final class Helper implements Runnable {
    private static final Logger LOG = LogManager.getLogger(Helper.class);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** The applier's side of a helper: where to return when idle and how to report. */
    interface Owner {
        void idle(Helper h);

        void applied(Gsn upTo);

        void failed(ChorusException reason);
    }

    private final int index;
    private final ApplierConfig config;
    private final Sequencer sequencer;
    private final ApplyMetrics metrics;
    /** Whether the current attempt's transaction holds local writers (see the class comment). */
    private boolean holding;
    private final Owner owner;
    private final BlockingQueue<Batch> mailbox = new ArrayBlockingQueue<>(1);
    private volatile boolean stopped;
    private volatile HelperSession session;

    Helper(int index, ApplierConfig config, Sequencer sequencer, ApplyMetrics metrics, Owner owner) {
        this.index = index;
        this.config = config;
        this.sequencer = sequencer;
        this.metrics = metrics;
        this.owner = owner;
    }

    /** Opens the connection now, so that configuration errors surface at start. Call before the thread starts. */
    void connect() throws SQLException {
        session = HelperSession.open(config, config.originName(index));
    }

    String name() {
        return config.originName(index);
    }

    void assign(Batch b) {
        if (!mailbox.offer(b)) {
            throw new IllegalStateException("helper " + name() + " was handed " + b + " while busy");
        }
    }

    void stop() {
        stopped = true;
    }

    /**
     * Aborts the connection from another thread (close() of a helper stuck in a statement, e.g. the head waiting on a
     * local session's lock); its thread then sees a lost connection and, the applier being aborted, exits.
     */
    void abortConnection() {
        HelperSession s = session;
        if (s != null) {
            try {
                s.connection().abort(Runnable::run);
            } catch (SQLException e) {
                LOG.debug("helper {}: abort failed ({})", name(), SqlErrors.describe(e));
            }
        }
    }

    /** Closes the connection of a helper whose thread never started. */
    void disconnect() {
        stopped = true;
        closeSession();
    }

    @Override
    public void run() {
        try {
            while (!stopped && !sequencer.aborted()) {
                Batch b = mailbox.poll(POLL_NANOS, TimeUnit.NANOSECONDS);
                if (b != null) {
                    ThreadContext.put("gsn", b.first() + ".." + b.last());
                    process(b);
                    ThreadContext.remove("gsn");
                    owner.idle(this);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            fail(new ChorusException("helper " + name() + " stopped on an unexpected error (" + e + "); the applier "
                    + "stopped with every GSN up to " + sequencer.committed() + " committed; restart the sidecar", e));
            throw e;
        } finally {
            closeSession();
        }
    }

    /** What to do after an attempt at a batch. */
    private enum Next { DONE, RERUN, CAREFUL }

    private void process(Batch b) throws InterruptedException {
        boolean careful = false;
        boolean waitHead = false;
        int[] failures = {0};
        while (true) {
            if (waitHead && sequencer.awaitTurn(b, false) == Sequencer.Turn.STOP) {
                return;
            }
            b.clearYield();
            Next next = attempt(b, careful, failures);
            if (next == Next.DONE) {
                return;
            }
            careful |= next == Next.CAREFUL;
            waitHead = true;
        }
    }

    /** Runs the batch once; on trouble, rolls back and says how to go on (or fails the applier and says DONE). */
    private Next attempt(Batch b, boolean careful, int[] failures) throws InterruptedException {
        holding = false;
        try {
            if (openIfNeeded(b)) {
                return Next.DONE;
            }
            session.schemaAt(sequencer.schemaVersion());
            if (careful) {
                session.forgetSchema(); // a doubt may come from a definition changed under the caches
            }
            return careful ? runCareful(b) : runBatched(b);
        } catch (RowWriter.Recheck r) {
            release(b);
            metrics.rechecks.increment();
            LOG.debug("helper {}: re-running {} in careful mode: {}", name(), b, r.getMessage());
            return Next.CAREFUL;
        } catch (SQLException e) {
            release(b);
            if (holding && SqlErrors.LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                // a lock the held re-run needs is held by a local transaction that waits at its trigger: let it go on
                b.gaveWay();
                metrics.holdsGivenWay.increment();
                LOG.info("helper {}: {} rolled back to let local writers go on: a lock it needs was held longer than "
                        + "the hold's {} ms; it re-runs without the hold", name(), b, config.holdTimeout().toMillis());
                return Next.RERUN;
            }
            if (careful && SqlErrors.UNIQUE_VIOLATION.equals(e.getSQLState())
                    && lateRestoresArrived(b, HelperSession.WalPositions.UNKNOWN)) {
                // a local row the tracker did not know yet holds the value: once known, it is doomed and rolled back
                return Next.RERUN;
            }
            return afterSqlError(b, e, careful, failures);
        } catch (ChorusException e) {
            release(b);
            if (e.isRetriable()) {
                return afterSqlError(b, new SQLException(e.getMessage(), "55P03", e), careful, failures);
            }
            if (!careful) {
                return Next.CAREFUL;
            }
            if (e instanceof DivergenceException && lateRestoresArrived(b, HelperSession.WalPositions.UNKNOWN)) {
                return Next.RERUN;
            }
            fail(e);
            return Next.DONE;
        } catch (RuntimeException | AssertionError e) {
            // the driver can fail outside SQLException when a backend dies mid-batch: treat it as a lost connection
            release(b);
            return afterSqlError(b, new SQLException("driver failure: " + e, "08006", e), careful, failures);
        }
    }

    private Next afterSqlError(Batch b, SQLException e, boolean careful, int[] failures) throws InterruptedException {
        if (sequencer.aborted()) {
            LOG.debug("helper {}: {} rolled back while the applier stops ({})", name(), b, SqlErrors.describe(e));
            return Next.DONE;
        }
        boolean retriable = SqlErrors.isRetriable(e);
        boolean undefined = SqlErrors.UNDEFINED_TABLE.equals(e.getSQLState())
                || SqlErrors.UNDEFINED_COLUMN.equals(e.getSQLState());
        if (careful && undefined && ++failures[0] == 1) {
            // a DDL statement of this node may have renamed or dropped the table, or renamed a column, while the
            // statement waited for its lock: once the capture has seen it, the re-run writes the change where that
            // statement put the table and its columns
            LOG.info("helper {}: {} met a missing table or column ({}); re-running it once the capture has seen every "
                    + "local commit", name(), b, SqlErrors.describe(e));
            config.guard().awaitCaptureCaughtUp(config.retryWait());
            return Next.RERUN;
        }
        if (b.yieldRequested() || retriable && ++failures[0] <= config.maxRetries()) {
            retryAfter(b, e, failures[0]);
            return Next.RERUN;
        }
        if (!careful && !retriable) {
            return Next.CAREFUL;
        }
        fail(b, e);
        return Next.DONE;
    }

    /**
     * Opens a fresh session after a lost one; returns true when the batch turns out to be committed already, or when
     * the applier stopped because the server does not accept connections or lost commits.
     */
    private boolean openIfNeeded(Batch b) throws SQLException {
        if (session != null) {
            return false;
        }
        try {
            session = HelperSession.open(config, name());
        } catch (SQLException e) {
            if (!SqlErrors.serverUnavailable(e)) {
                throw e;
            }
            // the backend of the batch died and no new one can start: the server is going away (or just came back
            // and is recovering); only a restart of the domain lets a shutdown finish (see ServerShutdownException)
            fail(new ServerShutdownException(name(), SqlErrors.describe(e), sequencer.committed()));
            return true;
        }
        if (lostCommits()) {
            return true;
        }
        Gsn durable = session.committedProgress();
        int before = b.committedUnits();
        b.skipCommittedUpTo(durable);
        if (b.committedUnits() > before) {
            LOG.info("helper {}: GSN {} was committed before the connection was lost; not applying it again",
                    name(), b.units().get(b.committedUnits() - 1).gsn());
            committed(b, b.units().get(b.committedUnits() - 1).gsn(), b.committedUnits() - before);
        }
        return b.isDone();
    }

    /**
     * Whether the server lost commits the applier saw succeed (a crash restart: helpers commit asynchronously); then
     * the applier stops with {@link LostCommitsException}, and the domain restarts from the durable watermark.
     */
    private boolean lostCommits() throws SQLException {
        Gsn durable = ApplyProgress.readWatermark(session.connection(), config.originPrefix());
        Gsn committed = sequencer.committed();
        if (!durable.isBefore(committed)) {
            return false;
        }
        LOG.warn("helper {}: the database holds GSNs up to {} only, the applier committed up to {}: PostgreSQL "
                + "restarted after a crash and lost asynchronous helper commits", name(), durable, committed);
        fail(new LostCommitsException(durable, committed));
        return true;
    }

    /** Runs the rest of the batch as one transaction, following the {@link ApplyGuard} protocol. */
    private Next runBatched(Batch b) throws SQLException, RowWriter.Recheck, InterruptedException {
        List<ApplyUnit> rest = b.units().subList(b.committedUnits(), b.units().size());
        holdLocalWritersIfStarved(b, rest);
        b.addLateRestores(config.guard().takeLateRestores(b.next(), b.last()));
        b.executing(session.pid());
        config.guard().helperTransaction(session.assignXid());
        long t0 = System.nanoTime();
        HelperSession.WalPositions wal = new RowWriter(session, false).write(rest, b.last(), b, b.lateRestores());
        long t1 = System.nanoTime();
        if (lateRestoresArrived(b, wal)) {
            release(b);
            return Next.RERUN;
        }
        long t2 = System.nanoTime();
        Sequencer.Turn turn = sequencer.awaitTurn(b, true);
        long t3 = System.nanoTime();
        if (turn != Sequencer.Turn.GO) {
            release(b);
            if (turn == Sequencer.Turn.YIELD) {
                metrics.yields.increment();
                LOG.info("helper {}: {} rolled back to let the head of the line pass (hidden conflict); it re-runs "
                        + "after the head commits", name(), b);
            }
            return turn == Sequencer.Turn.STOP ? Next.DONE : Next.RERUN;
        }
        session.commit(passesOwn(rest));
        long t4 = System.nanoTime();
        metrics.batched.increment();
        metrics.writeNanos.add(t1 - t0);
        metrics.guardNanos.add(t2 - t1);
        metrics.turnNanos.add(t3 - t2);
        metrics.commitNanos.add(t4 - t3);
        b.released();
        committed(b, b.last(), rest.size());
        return Next.DONE;
    }

    /**
     * Waits until the capture has seen every local commit so far and asks the guard for restores that a winner of
     * this batch now requires; returns whether there were any (the transaction must then re-run with them first).
     * With known positions the guard may answer from the snapshot at once (only helpers wrote since its last check).
     */
    private boolean lateRestoresArrived(Batch b, HelperSession.WalPositions wal) throws InterruptedException {
        if (wal.xid() != 0) {
            config.guard().helperTransaction(wal.xid());
        }
        config.guard().awaitCaptureCaughtUp(wal.inserted(), wal.flushed(), wal.snapshot(), config.retryWait());
        boolean arrived = b.addLateRestores(config.guard().takeLateRestores(b.next(), b.last()));
        if (arrived) {
            b.raced();
            LOG.info("helper {}: local commits raced {}; re-running it with {} restores first", name(), b,
                    b.lateRestores().size());
            LOG.trace("helper {}: late restores for {}: {}", name(), b, RestoreRow.describe(b.lateRestores()));
        }
        return arrived;
    }

    /**
     * Starts the transaction of a batch that local commits raced {@link ApplierConfig#holdAfterRaces()} times or more
     * by holding local writers (see the class comment); with fewer races, or when the hold timed out, starts nothing.
     */
    private void holdLocalWritersIfStarved(Batch b, List<ApplyUnit> units) throws SQLException {
        int races = b.races();
        if (config.holdAfterRaces() == 0 || races < config.holdAfterRaces() || b.takeGaveWay()
                || takesTableLocks(units)) {
            return;
        }
        if (!session.holdLocalWriters(config.holdTimeout())) {
            metrics.holdTimedOut();
            LOG.debug("helper {}: local writers not held for {} (still writing after {} ms); re-running it without "
                    + "the hold", name(), b, config.holdTimeout().toMillis());
            return;
        }
        holding = true;
        if (b.firstHold()) {
            metrics.held();
            LOG.info("helper {}: local writes held while {} re-runs after {} races", name(), b, races);
        } else {
            LOG.debug("helper {}: local writes held again while {} re-runs after {} races", name(), b, races);
        }
    }

    /**
     * Whether the units take a table lock stronger than ROW EXCLUSIVE (DDL, TRUNCATE): local statements waiting at
     * their trigger hold ROW EXCLUSIVE, so holding them while those units run would be a deadlock.
     */
    static boolean takesTableLocks(List<ApplyUnit> units) {
        for (ApplyUnit u : units) {
            for (Change c : u.changes()) {
                if (c instanceof TruncateChange || DdlMessage.isDdl(c)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Runs the rest of the batch one unit per transaction; the batch is the head of the line. */
    private Next runCareful(Batch b) throws SQLException, InterruptedException {
        while (!b.isDone()) {
            ApplyUnit u = b.units().get(b.committedUnits());
            HelperSession.WalPositions wal;
            holdLocalWritersIfStarved(b, List.of(u));
            b.addLateRestores(config.guard().takeLateRestores(u.gsn(), b.last()));
            b.executing(session.pid());
            config.guard().helperTransaction(session.assignXid());
            try {
                wal = new RowWriter(session, true).write(List.of(u), u.gsn(), b, b.lateRestores());
            } catch (RowWriter.Recheck impossible) {
                throw new IllegalStateException("careful mode never asks for a recheck", impossible);
            }
            if (lateRestoresArrived(b, wal)) {
                release(b);
                return Next.RERUN;
            }
            session.commit(passesOwn(List.of(u)));
            b.released();
            committed(b, u.gsn(), 1);
        }
        return Next.DONE;
    }

    /** Whether the units hold one of this node's own changesets: their transaction must survive a crash. */
    private static boolean passesOwn(List<ApplyUnit> units) {
        for (ApplyUnit u : units) {
            if (u.local() && u.gtid() != null) {
                return true;
            }
        }
        return false;
    }

    private void committed(Batch b, Gsn upTo, int units) {
        b.unitsCommitted((int) (upTo.value() - b.first().value()) + 1);
        metrics.units.add(units);
        for (int i = b.committedUnits() - units; i < b.committedUnits(); i++) {
            ApplyUnit u = b.units().get(i);
            metrics.rows.add(u.changes().size() + u.restores().size());
        }
        metrics.transactions.increment();
        b.lateRestores().clear();
        if (session != null && session.takeRanDdl()) {
            sequencer.schemaChanged();
        }
        config.guard().committed(upTo); // before the next GSN may commit: the guard learns commits in GSN order
        sequencer.committed(b, upTo);
        owner.applied(upTo);
    }

    private void retryAfter(Batch b, SQLException e, int failures) throws InterruptedException {
        if (SqlErrors.breaksConnection(e)) {
            closeSession();
        }
        if (b.yieldRequested()) {
            LOG.info("helper {}: {} cancelled to let the head of the line pass (hidden conflict); it re-runs after "
                    + "the head commits", name(), b);
            metrics.yields.increment();
            return;
        }
        metrics.retries.increment();
        LOG.warn("helper {}: {} failed ({}), re-running it{} (attempt {} of {})", name(), b, SqlErrors.describe(e),
                SqlErrors.breaksConnection(e) ? " on a fresh connection" : "", failures, config.maxRetries());
        long backoff = Math.min(config.retryWait().toNanos(), TimeUnit.MILLISECONDS.toNanos(10L << Math.min(failures - 1, 10)));
        sequencer.pause(failures == 1 ? 0 : backoff);
    }

    private void fail(Batch b, SQLException e) {
        ApplyUnit u = b.units().get(Math.min(b.committedUnits(), b.units().size() - 1));
        String origin = u.gtid() != null ? u.gtid().origin().value() : "unknown";
        String fix = SqlErrors.isRetriable(e) ? "it kept failing after " + config.maxRetries() + " re-runs; check the "
                + "server's health" : "fix the cause (e.g. create the missing table, free disk space)";
        fail(new ChorusException("applying GSN " + u.gsn() + " (origin " + origin + ") failed with "
                + SqlErrors.describe(e) + "; the applier stopped with every GSN up to " + sequencer.committed()
                + " committed and will not skip GSN " + u.gsn() + ": " + fix + ", then restart the sidecar", e));
    }

    private void fail(ChorusException reason) {
        owner.failed(reason);
    }

    private void release(Batch b) {
        if (session != null) {
            session.rollbackQuietly();
            if (session.takeRanDdl()) {
                session.forgetSchema();
            }
        }
        b.released();
    }

    private void closeSession() {
        if (session != null) {
            session.close();
            session = null;
        }
    }
}
