package io.chorus.coordinator.apply;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The applier's queue of units ahead of the helpers, bounded both in units and in estimated heap bytes
 * ({@link ApplyUnit#estimatedBytes()}): large TOAST changesets fill the byte budget long before the unit count, and a
 * full queue slows the delivery (flow control) instead of exhausting the heap. A unit larger than the whole byte
 * budget is still accepted into an empty queue, so nothing ever waits forever.
 *
 * <p>Thread-safe; {@link #offer} and the timed {@link #poll(long, TimeUnit)} block up to their timeout.
 */
final class UnitQueue {
    private final int capacity;
    private final long byteCapacity;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private long bytes;

    private record Entry(ApplyUnit unit, long bytes) {
    }

    UnitQueue(int capacity, long byteCapacity) {
        if (capacity < 1 || byteCapacity < 1) {
            throw new IllegalArgumentException("unit queue needs room for one unit and one byte, got " + capacity
                    + " units and " + byteCapacity + " bytes");
        }
        this.capacity = capacity;
        this.byteCapacity = byteCapacity;
    }

    /** Queues the unit, waiting up to the timeout for room; returns false when there was none in time. */
    boolean offer(ApplyUnit unit, long timeout, TimeUnit unitOfTime) throws InterruptedException {
        long size = unit.estimatedBytes();
        long left = unitOfTime.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (!entries.isEmpty() && (entries.size() >= capacity || bytes + size > byteCapacity)) {
                if (left <= 0) {
                    return false;
                }
                left = notFull.awaitNanos(left);
            }
            entries.addLast(new Entry(unit, size));
            bytes += size;
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The oldest unit, or null when the queue is empty. Never blocks (beyond the lock). */
    ApplyUnit poll() {
        lock.lock();
        try {
            return take();
        } finally {
            lock.unlock();
        }
    }

    /** The oldest unit, waiting up to the timeout for one; null when none came in time. */
    ApplyUnit poll(long timeout, TimeUnit unitOfTime) throws InterruptedException {
        long left = unitOfTime.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (entries.isEmpty()) {
                if (left <= 0) {
                    return null;
                }
                left = notEmpty.awaitNanos(left);
            }
            return take();
        } finally {
            lock.unlock();
        }
    }

    private ApplyUnit take() {
        Entry e = entries.pollFirst();
        if (e == null) {
            return null;
        }
        bytes -= e.bytes();
        notFull.signalAll();
        return e.unit();
    }

    int size() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    /** Estimated heap bytes of the queued units. */
    long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }
}
