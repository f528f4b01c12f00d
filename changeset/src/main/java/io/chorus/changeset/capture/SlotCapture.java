package io.chorus.changeset.capture;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import io.chorus.changeset.capture.CaptureState.Position;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.CloseableThreadContext;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Captures one database's committed transactions from its logical slot and hands them to a {@link CaptureListener}:
 * local ones as {@link io.chorus.changeset.ChangeSet}s with exact deps, helper (applier) ones as helper commits.
 *
 * <p>Confirm rule (what the server may forget): when every emitted local changeset has been {@link #markDelivered
 * delivered}, everything received — so a quiet database, or WAL written only by helpers or other databases, never holds
 * WAL; otherwise the commit LSN of the first undelivered local changeset. The position and the deps in force there are
 * fsynced to {@code workDir/capture.state} before the server hears of them, and restored on restart.
 *
 * <p>After a lost connection or a terminated walsender the reader reconnects (backoff 100 ms doubling to 5 s, each
 * attempt logged) and resumes from the confirmed position: nothing is lost; the local changesets emitted at or after
 * that position — the first undelivered one and every one after it — are emitted again, with the same GTID and deps.
 * A new SlotCapture (process restart) re-emits from the persisted position the same way; it cannot know which of those
 * the consumer had already delivered, so the consumer marks such a duplicate delivered again when it drops it.
 *
 * <p>Thread-safety: {@link #markDelivered}, the position getters and {@link #close} may be called from any thread;
 * the listener is called on the reader thread {@code chorus-capture-<slot>}. {@link #start} blocks while it prepares
 * the publication and the slot.
 */
public final class SlotCapture implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(SlotCapture.class);
    private static final long CLOSE_TIMEOUT_SECONDS = 30;

    private final CaptureConfig cfg;
    private final CaptureListener listener;
    private final ConfirmTracker tracker = new ConfirmTracker();
    private volatile CaptureLoop loop;
    private Thread thread;

    public SlotCapture(CaptureConfig cfg, CaptureListener listener) {
        this.cfg = Objects.requireNonNull(cfg, "cfg");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Ensures the publication and the slot, restores the confirmed position and deps, and starts the reader thread.
     *
     * @throws CaptureException when the server cannot be used (wal_level, slots exhausted, missing slot, ...)
     * @throws IllegalStateException when already started
     */
    public synchronized void start() {
        if (loop != null) {
            throw new IllegalStateException("capture of slot " + cfg.slotName() + " was already started");
        }
        try (CloseableThreadContext.Instance ctx = context()) {
            LOG.info("starting {}", cfg.describe());
            SlotSetup setup = new SlotSetup(cfg);
            SlotSetup.SlotInfo slot = setup.prepare();
            CaptureState state = new CaptureState(cfg.workDir(), cfg.slotName());
            Position start = restore(setup, slot, state);
            loop = new CaptureLoop(cfg, listener, tracker, state, start);
            thread = new Thread(() -> {
                try (CloseableThreadContext.Instance c = context()) {
                    loop.run();
                }
            }, "chorus-capture-" + cfg.slotName());
            thread.setDaemon(true);
            thread.start();
        }
    }

    private Position restore(SlotSetup setup, SlotSetup.SlotInfo slot, CaptureState state) {
        if (cfg.slotMode() == SlotMode.TEMPORARY) {
            return new Position(Lsn.INVALID, setup.depsWithoutState(slot));
        }
        Optional<Position> saved = state.load();
        if (saved.isPresent()) {
            if (saved.get().lsn().isBefore(slot.confirmedFlush())) {
                throw CaptureException.fatal("capture state " + state.file() + " is at " + saved.get().lsn()
                        + " but slot " + cfg.slotName() + " has already confirmed " + slot.confirmedFlush()
                        + ": the state file is stale (restored from a backup?); drop the slot and rejoin by state transfer");
            }
            LOG.info("restored capture position {} with deps {} from {}", saved.get().lsn(), saved.get().deps(), state.file());
            return saved.get();
        }
        Position p = new Position(slot.confirmedFlush(), setup.depsWithoutState(slot));
        state.save(p);
        return p;
    }

    /**
     * A local changeset came back in total order, so the server may forget it once everything before it has too.
     * Non-blocking; the confirmed position moves on the reader thread shortly after.
     */
    public void markDelivered(Lsn commitLsn) {
        tracker.markDelivered(commitLsn);
    }

    /**
     * Makes the reader poll the stream now and briskly for a while, when someone waits for it to reach a position (an
     * idle reader polls less often). Non-blocking; a no-op before start.
     */
    public void nudge() {
        CaptureLoop l = loop;
        if (l != null) {
            l.nudge();
        }
    }

    /** The position last persisted and reported to the server as flushed (INVALID before start). */
    public Lsn confirmedLsn() {
        CaptureLoop l = loop;
        return l == null ? Lsn.INVALID : l.confirmed().lsn();
    }

    /** Everything up to this position has been received and handed to the listener. */
    public Lsn receivedLsn() {
        CaptureLoop l = loop;
        return l == null ? Lsn.INVALID : l.received();
    }

    /** The error that stopped capture for good, if any. */
    public Optional<ChorusException> failure() {
        CaptureLoop l = loop;
        return Optional.ofNullable(l == null ? null : l.failure());
    }

    /** How many times the reader reconnected. */
    public int reconnects() {
        CaptureLoop l = loop;
        return l == null ? 0 : l.reconnects();
    }

    /** Local changesets emitted and not yet confirmed (the delivered ones among them wait for their predecessors). */
    public int pendingLocal() {
        return tracker.pendingCount();
    }

    /** How many local changesets were emitted again after reconnects. */
    public int reEmitted() {
        return tracker.reEmitted();
    }

    /** Stops the reader after a last confirm; blocks up to 30 s for it to finish. Idempotent. */
    @Override
    public synchronized void close() {
        if (loop == null || thread == null) {
            return;
        }
        loop.requestStop();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(CLOSE_TIMEOUT_SECONDS));
            if (thread.isAlive()) {
                LOG.warn("capture thread {} did not stop within {} s", thread.getName(), CLOSE_TIMEOUT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            tracker.releaseAll();
        }
        LOG.info("capture of slot {} closed at confirmed {}", cfg.slotName(), confirmedLsn());
        thread = null;
    }

    private CloseableThreadContext.Instance context() {
        return CloseableThreadContext.put("node", cfg.node().value()).put("db", cfg.database()).put("slot", cfg.slotName());
    }
}
