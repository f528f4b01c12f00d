package io.chorus.changeset.capture;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.capture.CaptureState.Position;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Makes capture positions durable on its own named thread, so that the reader thread never waits for an fsync (a
 * save is two of them, and on a busy disk one can take hundreds of milliseconds, during which the stream would not be
 * read and every capture-sync waiter would wait too). The reader {@link #request}s the newest confirmable position and
 * reports to the server only what {@link #persisted} returns: the server never learns a position the state file does
 * not hold. Requests coalesce (only the newest waiting one is written) and writes are at least
 * {@link #MIN_INTERVAL_NANOS} apart.
 *
 * <p>Thread-safe. {@link #request} and {@link #persisted} never block; {@link #awaitPersisted} blocks, bounded.
 */
final class StatePersister implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(StatePersister.class);
    /** Writes at most every 10 ms: a committing session in sync mode waits for the confirmed position. */
    static final long MIN_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final Consumer<Position> save;
    private final Thread thread;
    private final Object lock = new Object();
    /** The newest position asked for and not yet written, or null (guarded by lock). */
    private Position requested;
    private boolean closed;
    private volatile Position persisted;
    private volatile ChorusException failure;

    /**
     * @param save   writes a position durably (throws {@link ChorusException} when it cannot)
     * @param start  the position already durable
     * @param name   the writer thread's name
     */
    StatePersister(Consumer<Position> save, Position start, String name) {
        this.save = Objects.requireNonNull(save, "save");
        this.persisted = Objects.requireNonNull(start, "start");
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Asks for {@code p} to be made durable, unless a position at or after it already is or was asked for. */
    void request(Position p) {
        synchronized (lock) {
            Position newest = requested != null ? requested : persisted;
            if (p.lsn().isAfter(newest.lsn())) {
                requested = p;
                lock.notifyAll();
            }
        }
    }

    /** The newest durable position. */
    Position persisted() {
        return persisted;
    }

    /** The error of the last failed write, cleared by this call (the position it was writing is dropped). */
    ChorusException takeFailure() {
        ChorusException f = failure;
        failure = null;
        return f;
    }

    /** Waits until everything requested so far is durable or failed, at most {@code timeoutMillis}; returns whether it is. */
    boolean awaitPersisted(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (lock) {
            long left;
            while (requested != null && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return requested == null;
        }
    }

    private void run() {
        long lastWrite = System.nanoTime() - MIN_INTERVAL_NANOS;
        try {
            while (true) {
                Position next = awaitNext(lastWrite + MIN_INTERVAL_NANOS);
                if (next == null) {
                    return;
                }
                lastWrite = System.nanoTime();
                write(next);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next position to write, once one is requested and {@code notBefore} has come (at once when closing). */
    private Position awaitNext(long notBefore) throws InterruptedException {
        synchronized (lock) {
            while (!closed) {
                long early = notBefore - System.nanoTime();
                if (requested != null && early <= 0) {
                    return requested;
                }
                if (requested == null) {
                    lock.wait();
                } else {
                    TimeUnit.NANOSECONDS.timedWait(lock, early);
                }
            }
            return requested;
        }
    }

    private void write(Position next) {
        try {
            save.accept(next);
            persisted = next;
        } catch (ChorusException e) {
            LOG.debug("capture position {} not persisted: {}", next.lsn(), e.getMessage());
            failure = e;
        }
        synchronized (lock) {
            if (requested == next) {
                requested = null;
            }
            lock.notifyAll();
        }
    }

    /** Writes what was requested before (bounded by 5 s), then stops the thread. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
