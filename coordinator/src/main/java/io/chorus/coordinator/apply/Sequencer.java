package io.chorus.coordinator.apply;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The commit order: which GSN is committed, which batches are in flight (in GSN order), and the terminal failure.
 * Batches commit strictly in GSN order: a batch may commit only once every lower GSN has committed.
 *
 * <p>Thread-safe; all waits wake at least every {@link #TICK} to re-check stop conditions.
 */
final class Sequencer {
    enum Turn { GO, YIELD, STOP }

    private static final long TICK = TimeUnit.MILLISECONDS.toNanos(100);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Deque<Batch> inFlight = new ArrayDeque<>();
    private long committed;
    private ChorusException failure;
    private boolean aborted;
    private int peakInFlight;
    /** Moves on each time a DDL statement commits: helper sessions drop their statement and catalog caches. */
    private final java.util.concurrent.atomic.AtomicLong schemaVersion = new java.util.concurrent.atomic.AtomicLong();

    Sequencer(Gsn start) {
        committed = start.value();
    }

    long schemaVersion() {
        return schemaVersion.get();
    }

    void schemaChanged() {
        schemaVersion.incrementAndGet();
    }

    Gsn committed() {
        lock.lock();
        try {
            return Gsn.of(committed);
        } finally {
            lock.unlock();
        }
    }

    /** What {@link #admit(Batch, long)} did. */
    enum Admission { ADMITTED, BLOCKED, STOPPED }

    /**
     * Waits up to {@code waitNanos} until no in-flight batch meets {@code b}, then registers {@code b} as in flight;
     * BLOCKED when a batch in flight still meets it, STOPPED when the applier stopped.
     */
    Admission admit(Batch b, long waitNanos) throws InterruptedException {
        long deadline = System.nanoTime() + waitNanos;
        lock.lock();
        try {
            while (!aborted && meetsInFlight(b)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Admission.BLOCKED;
                }
                changed.awaitNanos(left);
            }
            if (aborted) {
                return Admission.STOPPED;
            }
            inFlight.addLast(b);
            peakInFlight = Math.max(peakInFlight, inFlight.size());
            return Admission.ADMITTED;
        } finally {
            lock.unlock();
        }
    }

    private boolean meetsInFlight(Batch b) {
        for (Batch f : inFlight) {
            if (f.meets(b)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Blocks until {@code b} may commit (every GSN before its next unit is committed), or, when {@code honourYield},
     * until the blocker watch asked it to yield, or until the applier stops.
     */
    Turn awaitTurn(Batch b, boolean honourYield) throws InterruptedException {
        long need = b.predecessor().value();
        lock.lock();
        try {
            while (true) {
                if (aborted) {
                    return Turn.STOP;
                }
                if (committed >= need) {
                    return Turn.GO;
                }
                if (honourYield && b.yieldRequested()) {
                    return Turn.YIELD;
                }
                changed.awaitNanos(TICK);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Records that {@code b} committed up to {@code upTo}; releases it when all its units are committed. */
    void committed(Batch b, Gsn upTo) {
        lock.lock();
        try {
            committed = upTo.value();
            if (b.isDone()) {
                inFlight.remove(b);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes waiters so they re-check yield requests. */
    void poke() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The head of the line (the in-flight batch holding the lowest uncommitted GSN), or null. */
    Batch head() {
        lock.lock();
        try {
            Batch first = inFlight.peekFirst();
            return first != null && first.predecessor().value() == committed ? first : null;
        } finally {
            lock.unlock();
        }
    }

    List<Batch> inFlight() {
        lock.lock();
        try {
            return new ArrayList<>(inFlight);
        } finally {
            lock.unlock();
        }
    }

    int peakInFlight() {
        lock.lock();
        try {
            return peakInFlight;
        } finally {
            lock.unlock();
        }
    }

    int inFlightCount() {
        lock.lock();
        try {
            return inFlight.size();
        } finally {
            lock.unlock();
        }
    }

    /** Records the terminal failure (the first one wins) and stops every wait. Returns whether it was the first. */
    boolean fail(ChorusException reason) {
        lock.lock();
        try {
            aborted = true;
            changed.signalAll();
            if (failure != null) {
                return false;
            }
            failure = reason;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Stops every wait without a failure (close). */
    void abort() {
        lock.lock();
        try {
            aborted = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    ChorusException failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Blocks until {@code gsn} is committed; throws the failure when the applier failed, and a timeout error built by
     * {@code state} when the deadline passes first.
     */
    void awaitCommitted(Gsn gsn, Duration timeout, Supplier<String> state) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (committed < gsn.value()) {
                if (failure != null) {
                    throw new ChorusException("GSN " + gsn + " will not be applied: the applier stopped. "
                            + failure.getMessage(), failure);
                }
                if (aborted) {
                    throw new ChorusException("GSN " + gsn + " will not be applied: the applier is closed ("
                            + state.get() + ")");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new ChorusException("timed out after " + timeout.toMillis() + " ms waiting for GSN " + gsn
                            + " to be applied (" + state.get() + "); the head of the line may be blocked by a local "
                            + "session's lock (see pg_locks) or the changesets were not delivered yet", null, true);
                }
                changed.awaitNanos(Math.min(left, TICK));
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits {@code nanos}, or less when the applier stops; a back-off that close() can cut short. */
    void pause(long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        lock.lock();
        try {
            long left;
            while (!aborted && (left = deadline - System.nanoTime()) > 0) {
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    boolean aborted() {
        lock.lock();
        try {
            return aborted;
        } finally {
            lock.unlock();
        }
    }

    /** Blocks until no batch is in flight or the timeout passes; returns whether the pipeline drained. */
    boolean awaitDrained(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!inFlight.isEmpty() && !aborted) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(Math.min(left, TICK));
            }
            return inFlight.isEmpty();
        } finally {
            lock.unlock();
        }
    }
}
