package io.chorus.changeset.capture;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import io.chorus.changeset.capture.CaptureState.Position;
import io.chorus.changeset.pgoutput.PgOutputParser;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The body of the capture reader thread: one session at a time, reconnecting with capped exponential backoff after
 * retriable failures, always resuming from the confirmed position (deps restored from it). Owns the stream, the
 * parser, the assembler and the state file; publishes positions through volatile fields.
 */
final class CaptureLoop implements Runnable, TransactionAssembler.Output {
    private static final Logger LOG = LogManager.getLogger(CaptureLoop.class);
    private static final long BACKOFF_FIRST_MS = 100;
    private static final long BACKOFF_MAX_MS = 5_000;
    /**
     * Idle polls (pgjdbc offers no blocking read that returns on idle): every millisecond for the first
     * {@value #IDLE_FAST_POLLS} empty polls after a message or a {@link #nudge}, then doubling up to
     * {@link #IDLE_POLL_MAX_NANOS}. A waiter for the capture (a capture sync) nudges it, so a quiet stream costs few
     * wake-ups without making those waits longer.
     */
    private static final int IDLE_FAST_POLLS = 20;
    private static final long IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long IDLE_POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(8);
    private static final int MESSAGES_BETWEEN_CONFIRMS = 1_000;
    private static final long FINAL_PERSIST_MS = 5_000;

    private final CaptureConfig cfg;
    private final CaptureListener listener;
    private final ConfirmTracker tracker;
    private final CaptureState state;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final PgOutputParser parser = new PgOutputParser(ReplicationSession.PROTOCOL_VERSION);
    private final TransactionAssembler assembler;

    private volatile Position confirmed;
    private volatile Lsn received;
    private volatile ChorusException failure;
    private volatile int reconnects;
    private Lsn lastCaughtUp = Lsn.INVALID;
    private StatePersister persister;
    private volatile Thread reader;
    private volatile boolean nudged;
    private int emptyPolls;
    private long backoffMs = BACKOFF_FIRST_MS;

    CaptureLoop(CaptureConfig cfg, CaptureListener listener, ConfirmTracker tracker, CaptureState state, Position start) {
        this.cfg = cfg;
        this.listener = listener;
        this.tracker = tracker;
        this.state = state;
        this.confirmed = start;
        this.received = start.lsn();
        this.assembler = new TransactionAssembler(cfg.node(), cfg.helperOriginPrefix(), start.deps(),
                () -> ChangeCollector.create(cfg.spillThresholdBytes(), cfg.workDir()), this);
    }

    Position confirmed() {
        return confirmed;
    }

    Lsn received() {
        return received;
    }

    ChorusException failure() {
        return failure;
    }

    int reconnects() {
        return reconnects;
    }

    void requestStop() {
        stop.countDown();
        LockSupport.unpark(reader);
    }

    /** Makes an idle reader poll the stream now, and every millisecond for a while. Never blocks. */
    void nudge() {
        nudged = true;
        LockSupport.unpark(reader);
    }

    @Override
    public void run() {
        reader = Thread.currentThread();
        try (StatePersister p = new StatePersister(cfg.slotMode() == SlotMode.TEMPORARY ? pos -> { } : state::save,
                confirmed, "chorus-capture-persist-" + cfg.slotName())) {
            persister = p;
            stream();
        }
    }

    private void stream() {
        while (stop.getCount() > 0) {
            ChorusException failed;
            try {
                runSession();
                continue;
            } catch (SQLException e) {
                failed = new CaptureException("replication stream of slot " + cfg.slotName() + " failed: "
                        + SqlStates.describe(e) + SqlStates.hint(e, cfg.slotName(), cfg.publication()), e, SqlStates.isRetriable(e));
            } catch (ChorusException e) {
                failed = e;
            } catch (RuntimeException e) {
                // a listener or decoding bug: never let the reader die silently
                failed = CaptureException.fatal("capture of slot " + cfg.slotName() + " stopped by an unexpected " + e, e);
            }
            if (!handle(failed)) {
                return;
            }
        }
    }

    /** Logs and waits before a retry; false when capture must stop for good. */
    private boolean handle(ChorusException e) {
        if (!e.isRetriable() || cfg.slotMode() == SlotMode.TEMPORARY) {
            failure = e.isRetriable() ? CaptureException.fatal(e.getMessage()
                    + "; the temporary slot died with the connection, so capture cannot resume", e) : e;
            LOG.error("capture of slot {} stopped: {}", cfg.slotName(), failure.getMessage(), e);
            listener.onFailure(failure);
            return false;
        }
        reconnects++;
        LOG.warn("capture of slot {} lost its stream ({}); reconnect #{} in {} ms from confirmed {}", cfg.slotName(),
                e.getMessage(), reconnects, backoffMs, confirmed.lsn());
        awaitStop(backoffMs);
        backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
        return true;
    }

    /** Streams until stopped (returns) or failed (throws). */
    private void runSession() throws SQLException {
        Position from = confirmed;
        parser.reset();
        assembler.restart(from.deps());
        received = from.lsn();
        try (ReplicationSession session = ReplicationSession.open(cfg, from.lsn())) {
            LOG.info("streaming slot {} from {} with deps {}", cfg.slotName(), from.lsn(), from.deps());
            backoffMs = BACKOFF_FIRST_MS;
            if (from.lsn().isValid()) {
                session.confirm(from.lsn()); // already persisted: status updates report it from the start
            }
            int sinceConfirm = 0;
            while (stop.getCount() > 0) {
                ByteBuffer payload = session.readPending();
                if (payload == null) {
                    onIdle(session);
                    parkIdle();
                    continue;
                }
                emptyPolls = 0;
                if (assembler.skipsRows() && PgOutputParser.isRowChange(payload)) {
                    payload.position(payload.limit()); // a helper's row: nothing to emit, not parsed
                } else {
                    assembler.accept(parser.parse(payload));
                }
                if (++sinceConfirm >= MESSAGES_BETWEEN_CONFIRMS) {
                    sinceConfirm = 0;
                    if (maybeConfirm(session)) {
                        session.sendStatusNow(); // sessions committing in sync mode wait for this position
                    }
                }
            }
            finalConfirm(session);
        } finally {
            assembler.abandon();
        }
    }

    /** Between messages: take the keepalive position, tell the listener, and report a moved position at once. */
    private void onIdle(ReplicationSession session) throws SQLException {
        if (!assembler.inTransaction()) {
            Lsn heard = session.lastReceived();
            if (heard.isAfter(received)) {
                received = heard;
            }
            if (!received.equals(lastCaughtUp)) {
                lastCaughtUp = received;
                listener.onCaughtUp(received);
            }
        }
        if (maybeConfirm(session)) {
            session.sendStatusNow(); // idle: no reason to leave the server up to a status interval behind
        }
    }

    /**
     * Asks for the confirmable position to be persisted, and reports to the server the newest position that is
     * (persisting runs on its own thread: this one never waits for an fsync). Returns whether the reported position
     * moved; throws the persister's last failure.
     */
    private boolean maybeConfirm(ReplicationSession session) {
        ChorusException failed = persister.takeFailure();
        if (failed != null) {
            throw failed;
        }
        persister.request(tracker.confirmable(received, assembler.deps()));
        Position durable = persister.persisted();
        // a position requested in an earlier session may lie ahead of what this one has received again: the server
        // is re-sending what lies before it, whose deliveries must not be forgotten yet
        if (!durable.lsn().isAfter(confirmed.lsn()) || durable.lsn().isAfter(received)) {
            return false;
        }
        confirmed = durable;
        session.confirm(durable.lsn());
        tracker.forgetBefore(durable.lsn());
        LOG.debug("confirmed {} (deps {}), {} local changesets pending", durable.lsn(), durable.deps(), tracker.pendingCount());
        return true;
    }

    /** At the end of a session: persists the confirmable position (bounded wait) and reports it. */
    private void finalConfirm(ReplicationSession session) throws SQLException {
        persister.request(tracker.confirmable(received, assembler.deps()));
        try {
            if (!persister.awaitPersisted(FINAL_PERSIST_MS)) {
                LOG.warn("capture position of slot {} not persisted within {} ms at the end of the stream; the server "
                        + "keeps confirmed {}", cfg.slotName(), FINAL_PERSIST_MS, confirmed.lsn());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        maybeConfirm(session);
        session.sendStatusNow();
    }

    @Override
    public void localCommit(ChangeSet cs, Lsn endLsn, AutoCloseable spillFile) {
        if (!tracker.emitted(cs.gtid().commitLsn(), cs.deps(), spillFile)) {
            LOG.debug("re-emitting {} (deps {}) after a reconnect", cs.gtid(), cs.deps());
        }
        received = endLsn;
        listener.onLocalChangeSet(cs);
    }

    @Override
    public void helperCommit(String originName, Gsn appliedGsn, Lsn commitLsn, Lsn endLsn) {
        received = endLsn;
        LOG.trace("helper commit {} of origin {} applied GSN {}", commitLsn, originName, appliedGsn);
        listener.onHelperCommit(originName, appliedGsn, commitLsn);
    }

    @Override
    public void emptyCommit(Lsn commitLsn, Lsn endLsn) {
        received = endLsn;
    }

    @Override
    public void controlMessage(String prefix, byte[] content, Lsn lsn) {
        listener.onControlMessage(prefix, content, lsn);
    }

    /** Waits one idle poll interval (see {@link #IDLE_FAST_POLLS}); a nudge or a stop ends it early. */
    private void parkIdle() {
        if (nudged) {
            nudged = false;
            emptyPolls = 0;
        }
        long nanos = idlePollNanos(++emptyPolls);
        if (stop.getCount() > 0) {
            LockSupport.parkNanos(this, nanos);
        }
        if (nudged) {
            nudged = false;
            emptyPolls = 0;
        }
    }

    /** The pause after the {@code emptyPolls}-th empty poll in a row. */
    static long idlePollNanos(int emptyPolls) {
        int slow = emptyPolls - IDLE_FAST_POLLS;
        return slow <= 0 ? IDLE_POLL_NANOS : Math.min(IDLE_POLL_MAX_NANOS, IDLE_POLL_NANOS << Math.min(slow, 8));
    }

    private void awaitStop(long ms) {
        try {
            stop.await(ms, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop.countDown();
        }
    }
}
