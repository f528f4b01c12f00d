package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The records waiting for the group, in submission order: up to a memory bound in memory, the rest in a
 * {@link SpillFile}. Every record in memory precedes every record on disk: once a record spilled, later ones spill
 * too until the appender has read the file back, so the group receives them in the order they were put.
 *
 * <p>Flow control without a cycle. When memory is full, {@link #put} waits for room (the capture stops reading; the
 * slot keeps the WAL) only while {@code mayHoldBack} says so; otherwise the record spills to disk at once. The domain
 * holds the capture back only while no helper waits for it (a capture sync): a stalled group may itself wait for
 * this node's applier, whose head helper waits for the capture, so a capture that waited then would close a cycle.
 * Memory bound: {@code maxBytes} of payload queued or taken and not yet {@link #release released}, and at most
 * {@code maxRecords} records queued. The disk bound is the disk: a record that cannot be written fails {@link #put}
 * and every later one — nothing is dropped, the domain stops.
 *
 * <p>Thread-safe: {@link #put} is called by the capture and timer threads, {@link #poll} and {@link #release} by the
 * appender thread. {@link #poll} blocks up to its timeout; {@link #put} blocks while held back, and on disk I/O.
 */
final class AppendQueue implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(AppendQueue.class);
    private static final long RECHECK_MS = 10;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    /** A poll ends early, with null (see {@link #wake}); guarded by lock. */
    private boolean woken;
    private final Condition roomFreed = lock.newCondition();
    private final BooleanSupplier mayHoldBack;
    private long heldBack;
    private boolean closed;
    private final ArrayDeque<Appender.Item> memory = new ArrayDeque<>();
    private final SpillFile spill;
    private final long maxBytes;
    private final int maxRecords;
    /** Payload bytes in memory: queued, or taken by the appender and not released (guarded by lock). */
    private long bytes;
    private long spilledTotal;
    private ChorusException failure;

    /**
     * @param mayHoldBack asked while memory is full: true lets {@link #put} wait for room, false spills at once (it is
     *                    asked again every {@value #RECHECK_MS} ms while a put waits)
     */
    AppendQueue(Path spillFile, long maxBytes, int maxRecords, BooleanSupplier mayHoldBack) {
        if (maxBytes < 1 || maxRecords < 1) {
            throw new IllegalArgumentException("append queue bounds must be positive: " + maxBytes + " bytes, "
                    + maxRecords + " records");
        }
        this.maxBytes = maxBytes;
        this.maxRecords = maxRecords;
        this.mayHoldBack = mayHoldBack;
        try {
            this.spill = SpillFile.open(spillFile);
        } catch (IOException e) {
            throw new ChorusException("cannot prepare the append spill file " + spillFile + ": " + e
                    + "; make the sidecar's data folder writable and restart it", e);
        }
    }

    /**
     * Queues a record behind every record put before it. When memory is full, waits for room while
     * {@code mayHoldBack} allows, else spills the record to disk; once records are on disk, later ones follow them.
     *
     * @throws ChorusException (not retriable) when the record cannot be spilled (disk full), or an earlier one could
     *                         not: the domain must stop; the slot still holds every record not delivered
     */
    void put(Appender.Item item) throws InterruptedException {
        long size = item.payload().length;
        lock.lock();
        try {
            while (true) {
                if (failure != null) {
                    throw failure;
                }
                if (spill.isEmpty() && memory.size() < maxRecords && (bytes == 0 || bytes + size <= maxBytes)) {
                    memory.addLast(item);
                    bytes += size;
                    notEmpty.signal();
                    return;
                }
                if (closed || !spill.isEmpty() || !mayHoldBack.getAsBoolean()) {
                    break;
                }
                heldBack++;
                roomFreed.await(RECHECK_MS, TimeUnit.MILLISECONDS); // room, or a helper that now waits for the capture
            }
            toDisk(item);
        } finally {
            lock.unlock();
        }
    }

    private void toDisk(Appender.Item item) {
        if (spill.isEmpty()) {
            LOG.info("the group is slower than this node's commits: local records beyond {} bytes in memory spill "
                    + "to {} until it catches up", maxBytes, spill.path());
        }
        try {
            spill.write(item);
            spilledTotal++;
        } catch (IOException e) {
            failure = new ChorusException("cannot spill a local changeset for the group to " + spill.path() + " ("
                    + e + ") with " + spill.records() + " records (" + spill.bytes() + " bytes) spilled: is the disk "
                    + "full? Free space on that disk and restart the sidecar; nothing is lost (the slot keeps every "
                    + "local commit not yet ordered)", e, false);
            throw failure;
        }
    }

    /**
     * Takes the oldest record, reading spilled records back into memory as room allows; waits up to
     * {@code timeoutMs} for one. Returns null when none came, or early when {@link #wake} was called.
     *
     * @throws ChorusException when a spilled record cannot be read back
     */
    Appender.Item poll(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        lock.lock();
        try {
            while (true) {
                refill();
                Appender.Item next = memory.pollFirst();
                if (next != null) {
                    return next;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || woken) {
                    woken = false;
                    return null;
                }
                notEmpty.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends a {@link #poll} that waits now (or the next one) early, with null: the appender has something to do. */
    void wake() {
        lock.lock();
        try {
            woken = true;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Reads spilled records back while memory has room; call with the lock held. */
    private void refill() {
        if (failure != null) {
            throw failure;
        }
        try {
            while (!spill.isEmpty() && memory.size() < maxRecords && bytes < maxBytes) {
                Appender.Item item = spill.read();
                memory.addLast(item);
                bytes += item.payload().length;
                if (spill.isEmpty()) {
                    LOG.info("append spill drained: {} records went through {} since the first spill", spilledTotal,
                            spill.path());
                }
            }
        } catch (IOException e) {
            failure = new ChorusException("cannot read spilled local changesets back from " + spill.path() + " ("
                    + e + "); restart the sidecar: the capture re-reads them from the slot", e, false);
            throw failure;
        }
    }

    /** A record taken by {@link #poll} was confirmed by the group: its memory is free. */
    void release(Appender.Item item) {
        lock.lock();
        try {
            bytes -= item.payload().length;
            roomFreed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Records queued (in memory and on disk), not counting those taken by the appender. */
    long depth() {
        return locked(() -> memory.size() + spill.records());
    }

    /** How many times a put waited for room: it changes while the group holds the capture back. */
    long heldBack() {
        return locked(() -> heldBack);
    }

    /** Records on disk now. */
    long spilled() {
        return locked(() -> spill.records());
    }

    /** Payload bytes held in memory: queued, or taken and not released. */
    long memoryBytes() {
        return locked(() -> bytes);
    }

    private long locked(java.util.function.LongSupplier read) {
        lock.lock();
        try {
            return read.getAsLong();
        } finally {
            lock.unlock();
        }
    }

    /** Deletes the spill file: its records are still in the slot, which a next run re-reads. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            roomFreed.signalAll();
            spill.delete();
        } catch (IOException e) {
            LOG.warn("cannot delete the append spill file {}: {}", spill.path(), e.toString());
        } finally {
            lock.unlock();
        }
    }
}
