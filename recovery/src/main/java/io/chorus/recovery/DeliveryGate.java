package io.chorus.recovery;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets a donor stop its domain's delivery between two records, so that what it has delivered and what its helpers
 * have committed meet at one GSN. The delivery thread wraps each record in {@link #enter}/{@link #exit}; the donor's
 * thread {@link #close}s the gate (waiting for the record in progress) and {@link #open}s it again. Fair, so a donor
 * is not starved by a busy delivery thread. Thread-safe.
 */
public final class DeliveryGate {
    private final ReentrantLock lock = new ReentrantLock(true);

    /** Called by the delivery thread before a record; blocks while the gate is closed. */
    public void enter() {
        lock.lock();
    }

    /** Called by the delivery thread after a record. */
    public void exit() {
        lock.unlock();
    }

    /** Closes the gate once the record in progress is done; false when that took longer than {@code timeout}. */
    boolean close(Duration timeout) throws InterruptedException {
        return lock.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Opens the gate closed by this thread. */
    void open() {
        lock.unlock();
    }
}
