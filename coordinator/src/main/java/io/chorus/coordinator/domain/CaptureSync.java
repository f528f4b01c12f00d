package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Lsn;
import io.chorus.coordinator.apply.XidSnapshot;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * "Has the capture seen every commit so far?" The capture reports commits in commit-LSN order, so it has seen every
 * commit before WAL position P once it reported a commit at or after P, a keepalive position at or after P, or a
 * logical message written at or after P. The domain feeds those positions in ({@link #decodedThrough}); this class
 * answers from them:
 * <ol>
 *   <li>a caller that knows a WAL position P (read after it took its locks) returns at once when the capture already
 *       decoded past P;</li>
 *   <li>when the WAL up to P is already flushed (the walsender decodes flushed WAL only), or when that recently
 *       worked (other sessions' commits keep flushing the WAL), it waits a short grace for the capture to get there
 *       by itself;</li>
 *   <li>otherwise it writes a non-transactional logical message (flushed): it lies after P, so the capture reaching
 *       it proves the point. One message serves every caller that asked before it was written; callers that find a
 *       message already written after they asked wait for it instead of writing their own.</li>
 * </ol>
 * A caller without a position ({@link Lsn#INVALID}) always waits for a message written after it asked.
 *
 * <p>Before all that, a caller with a position and the snapshot read with it (a helper's batch) returns at once when
 * only helper transactions can have finished since the snapshot of an earlier check that returned: every local
 * commit it needs was reported before that check returned ({@link HelperXids}). Where only helpers write, this spares
 * each batch the sync message and the wait for it; any other transaction id in between makes the caller wait.
 *
 * <p>Thread-safe. {@link #await} blocks (bounded by its timeout); the feeding methods never block for long and are
 * called from the capture thread.
 */
final class CaptureSync implements AutoCloseable {
    static final String PREFIX = "chorus_capture_sync";
    private static final Logger LOG = LogManager.getLogger(CaptureSync.class);
    /** How long a caller waits for the capture to pass its position by itself before it writes a message. */
    private static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final String jdbcUrl;
    /** Tells this instance's messages from those of an earlier run that the capture may decode again. */
    private final String incarnation = UUID.randomUUID() + ":";
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition advanced = lock.newCondition();
    private final Object emitting = new Object();
    private final LongAdder skipped = new LongAdder();
    private final LongAdder passive = new LongAdder();
    private final LongAdder messages = new LongAdder();
    private final LongAdder onlyHelpers = new LongAdder();
    private final HelperXids helperXids = new HelperXids();
    private final java.util.concurrent.atomic.AtomicInteger waiters = new java.util.concurrent.atomic.AtomicInteger();
    private long decoded;
    private long roundsStarted;
    private long roundsSeen;
    private boolean passiveWorked;
    private int sincePassive;
    private volatile boolean closed;
    private Connection connection;
    private boolean flushArgument;

    /** Changes while the capture moves on, or is held back by the group (see {@link #await(Lsn, Lsn, Duration)}). */
    private final LongSupplier progress;
    /** Makes an idle capture poll its stream at once (it polls less often when quiet). */
    private final Runnable nudge;

    CaptureSync(String jdbcUrl) {
        this(jdbcUrl, () -> 0, () -> { });
    }

    /**
     * @param progress a value that changes whenever the capture decodes more, or waits because the group holds its
     *                 appends back (a minority, a slow group): a wait goes on while it changes
     * @param nudge    makes the capture poll its stream now (called whenever a caller starts waiting for it)
     */
    CaptureSync(String jdbcUrl, LongSupplier progress, Runnable nudge) {
        this.jdbcUrl = jdbcUrl;
        this.progress = progress;
        this.nudge = nudge;
    }

    /** Blocks until the capture reported a sync message written after this call started. */
    void await(Duration timeout) throws InterruptedException {
        await(Lsn.INVALID, Lsn.INVALID, timeout);
    }

    /** {@code xid} is a top-level transaction id of one of the domain's helpers (xid8). Non-blocking. */
    void helperTransaction(long xid) {
        helperXids.add(xid);
    }

    /**
     * As {@link #await(Lsn, Lsn, Duration)}, and returns at once when {@code snapshot} (read with the position, after
     * the caller's locks, listing the caller's own transaction as running; null: unknown) shows that only helper
     * transactions can have finished since the snapshot of an earlier call that returned (see {@link HelperXids}).
     */
    void await(Lsn position, Lsn flushed, XidSnapshot snapshot, Duration timeout) throws InterruptedException {
        if (!position.isValid() || snapshot == null) {
            await(position, flushed, timeout);
            return;
        }
        if (helperXids.onlyHelpersSince(snapshot)) {
            onlyHelpers.increment();
            return;
        }
        await(position, flushed, timeout);
        helperXids.confirmed(snapshot);
    }

    /**
     * Blocks until the capture has reported every commit before WAL position {@code position} (INVALID: every commit
     * before this call). {@code flushed} is the server's flush position read together with it (INVALID: unknown).
     *
     * @throws ChorusException (retriable) when the capture makes no progress for {@code timeout}, or the sync fails
     */
    void await(Lsn position, Lsn flushed, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long target = position.value();
        long ticket;
        boolean tryPassive;
        lock.lock();
        try {
            if (position.isValid() && decoded >= target) {
                skipped.increment();
                return;
            }
            ticket = roundsStarted;
            tryPassive = position.isValid() && (!flushed.isBefore(position) || passiveWorked || ++sincePassive >= 8);
        } finally {
            lock.unlock();
        }
        waiters.incrementAndGet();
        try {
            nudge.run();
            awaitDecoded(position, target, ticket, tryPassive, deadline, timeout);
        } finally {
            waiters.decrementAndGet();
        }
    }

    private void awaitDecoded(Lsn position, long target, long ticket, boolean tryPassive, long deadline,
                              Duration timeout) throws InterruptedException {
        if (tryPassive && passiveWait(target, Math.min(deadline, System.nanoTime() + GRACE_NANOS))) {
            return;
        }
        emitUnlessShared(ticket);
        nudge.run();
        Check reached = position.isValid() ? () -> decoded >= target : () -> roundsSeen > ticket;
        long seen = progress.getAsLong();
        while (!awaitUntil(reached, deadline)) {
            long now = progress.getAsLong();
            if (now == seen) {
                throw new ChorusException("the capture did not report its sync message and made no progress for "
                        + timeout.toMillis() + " ms (is the slot being read? see the capture's log)", null, true);
            }
            // a busy capture (a backlog, appends held back while the group has no majority) is late, not lost
            seen = now;
            deadline = System.nanoTime() + timeout.toNanos();
        }
    }

    /**
     * Waits for the capture to reach {@code target} without writing anything: it gets there by itself when other
     * commits flush the WAL. Remembers whether that worked, so a node whose WAL nobody else flushes (only helpers
     * write; their commits are asynchronous) tries it only now and then.
     */
    private boolean passiveWait(long target, long until) throws InterruptedException {
        boolean reached = awaitUntil(() -> decoded >= target, until);
        lock.lock();
        try {
            passiveWorked = reached;
            sincePassive = 0;
        } finally {
            lock.unlock();
        }
        if (reached) {
            passive.increment();
        }
        return reached;
    }

    /**
     * Whether a caller waits for the capture now. The capture must not then wait for the group (the group may wait
     * for this node's applier, whose head helper may be that caller). Non-blocking.
     */
    boolean hasWaiters() {
        return waiters.get() > 0;
    }

    /** Called from the capture thread: every commit before {@code lsn} has been reported. */
    void decodedThrough(Lsn lsn) {
        lock.lock();
        try {
            if (lsn.value() > decoded) {
                decoded = lsn.value();
                advanced.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called from the capture thread for every control message. */
    void onMessage(String prefix, byte[] content, Lsn lsn) {
        if (!PREFIX.equals(prefix)) {
            return;
        }
        String text = new String(content, StandardCharsets.UTF_8);
        if (!text.startsWith(incarnation)) {
            decodedThrough(lsn);
            return; // written by an earlier run: it still marks a decoded position
        }
        long round = Long.parseLong(text.substring(incarnation.length()));
        lock.lock();
        try {
            roundsSeen = Math.max(roundsSeen, round);
            decoded = Math.max(decoded, lsn.value());
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    long answeredAtOnce() {
        return skipped.sum();
    }

    long messagesWritten() {
        return messages.sum();
    }

    /** Calls answered from their snapshot: only helpers wrote since a confirmed check. */
    long answeredOnlyHelpers() {
        return onlyHelpers.sum();
    }

    /**
     * Counters for the log: calls answered from their snapshot, at once from the position, after a passive wait, and
     * messages written.
     */
    String stats() {
        return "capture sync: " + onlyHelpers.sum() + " answered from the snapshot (only helpers wrote since), "
                + skipped.sum() + " answered at once, " + passive.sum() + " after a short wait, " + messages.sum()
                + " messages written";
    }

    private interface Check {
        boolean met();
    }

    private boolean awaitUntil(Check check, long deadline) throws InterruptedException {
        lock.lock();
        try {
            while (!check.met()) {
                if (closed) {
                    throw new ChorusException("capture sync: the domain is closing", null, true);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                advanced.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Writes a sync message unless one was written after {@code ticket} (it then serves this caller too). */
    private void emitUnlessShared(long ticket) {
        synchronized (emitting) {
            long round;
            lock.lock();
            try {
                if (roundsStarted > ticket) {
                    return;
                }
                round = ++roundsStarted;
            } finally {
                lock.unlock();
            }
            emit(incarnation + round);
            messages.increment();
        }
    }

    private void emit(String token) {
        for (int attempt = 1; ; attempt++) {
            if (closed) {
                throw new ChorusException("capture sync closed: the domain is stopping");
            }
            try {
                if (connection == null || connection.isClosed()) {
                    connection = DriverManager.getConnection(jdbcUrl);
                    connection.setAutoCommit(true);
                    flushArgument = connection.getMetaData().getDatabaseMajorVersion() >= 17;
                }
                // the walsender decodes only flushed WAL, and a non-transactional message is not flushed by itself
                try (PreparedStatement ps = connection.prepareStatement(flushArgument
                        ? "SELECT pg_logical_emit_message(false, ?, ?, true)" : "SELECT pg_logical_emit_message(false, ?, ?)")) {
                    ps.setString(1, PREFIX);
                    ps.setString(2, token);
                    ps.execute();
                }
                if (!flushArgument) {
                    try (PreparedStatement ps = connection.prepareStatement("SELECT txid_current()")) {
                        ps.execute(); // commits a transaction with an xid: its commit flushes the WAL before it
                    }
                }
                return;
            } catch (SQLException e) {
                closeConnection();
                if (attempt >= 3) {
                    throw new ChorusException("cannot write a capture sync message: " + e.getMessage(), e, true);
                }
            }
        }
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // already broken
        }
        connection = null;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
        synchronized (emitting) {
            closeConnection();
        }
        LOG.info("{}", stats());
    }
}
