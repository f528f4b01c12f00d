package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Sends this node's records to the group in submission order, with many appends in flight so that the group can
 * batch them. When an append fails (timeout, leader change, minority), every record from the first unconfirmed one on
 * is sent again in the same order: the group drops a record whose (origin, sequence) it has already delivered, so a
 * retry never duplicates; and after a failure the group refuses every later append until {@link Sink#resume()}, so
 * nothing sent after the failed record can be committed before it. Owns one named thread; {@link #submit} blocks when the bounded queue is full (flow control:
 * the capture stops reading, the slot keeps the WAL — nothing is dropped).
 */
final class Appender implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Appender.class);

    /** One record to append: its origin sequence (0 = no dedupe) and payload. */
    record Item(long originSeq, byte[] payload) {
    }

    /** The group's append operation. */
    interface Sink {
        CompletableFuture<?> append(long originSeq, byte[] payload);

        /** After a failure the group refuses appends until this call (so an origin's records stay in order). */
        void resume();
    }

    private final BlockingQueue<Item> queue;
    private final Sink sink;
    private final int maxInFlight;
    private final Consumer<ChorusException> onFatal;
    private final Thread thread;
    private volatile boolean running = true;
    private final long maxBytes;
    private final Object bytesLock = new Object();
    /** Payload bytes queued or in flight, not yet confirmed (guarded by bytesLock). */
    private long bytes;
    private final java.util.concurrent.atomic.AtomicLong heldBack = new java.util.concurrent.atomic.AtomicLong();

    Appender(String name, Sink sink, int capacity, long maxBytes, int maxInFlight, Consumer<ChorusException> onFatal) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.maxBytes = maxBytes;
        this.sink = sink;
        this.maxInFlight = maxInFlight;
        this.onFatal = onFatal;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /**
     * Queues a record; blocks while the queue is full: {@code capacity} records, or {@code maxBytes} of payload
     * queued or unconfirmed (a record larger than that is taken alone).
     */
    void submit(Item item) throws InterruptedException {
        long size = item.payload().length;
        synchronized (bytesLock) {
            while (running && bytes > 0 && bytes + size > maxBytes) {
                heldBack.incrementAndGet();
                LOG.debug("append queue full ({} bytes in {} records): waiting for the group", bytes, queue.size());
                bytesLock.wait(1_000);
            }
            bytes += size;
        }
        while (running && !queue.offer(item, 1, TimeUnit.SECONDS)) {
            heldBack.incrementAndGet();
            LOG.debug("append queue full ({} records): waiting for the group", queue.size());
        }
    }

    private void confirmed(Item item) {
        synchronized (bytesLock) {
            bytes -= item.payload().length;
            bytesLock.notifyAll();
        }
    }

    /** How many times a submitter waited a second for room: it changes while the group holds the submitter back. */
    long heldBack() {
        return heldBack.get();
    }

    int depth() {
        return queue.size();
    }

    private void run() {
        Deque<Item> unconfirmed = new ArrayDeque<>();
        Deque<CompletableFuture<?>> futures = new ArrayDeque<>();
        long backoffMs = 100;
        try {
            while (running) {
                while (unconfirmed.size() < maxInFlight) {
                    Item next = unconfirmed.isEmpty() ? queue.poll(200, TimeUnit.MILLISECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    unconfirmed.addLast(next);
                    futures.addLast(sink.append(next.originSeq(), next.payload()));
                }
                if (futures.isEmpty()) {
                    continue;
                }
                try {
                    futures.peekFirst().get(1, TimeUnit.SECONDS);
                    futures.removeFirst();
                    confirmed(unconfirmed.removeFirst());
                    backoffMs = 100;
                } catch (TimeoutException e) {
                    // still in flight; the group's own deadline fails it eventually
                } catch (ExecutionException e) {
                    LOG.warn("append failed ({}); resending {} records in order after {} ms", rootMessage(e),
                            unconfirmed.size(), backoffMs);
                    drain(futures);
                    waitBackoff(backoffMs);
                    backoffMs = Math.min(backoffMs * 2, 5_000);
                    futures.clear();
                    sink.resume();
                    List<Item> again = new ArrayList<>(unconfirmed);
                    for (Item i : again) {
                        futures.addLast(sink.append(i.originSeq(), i.payload()));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            onFatal.accept(new ChorusException("appending to the group failed: " + e.getMessage(), e));
        }
    }

    private static void drain(Deque<CompletableFuture<?>> futures) {
        for (CompletableFuture<?> f : futures) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // outcome irrelevant: everything unconfirmed is resent, and duplicates are dropped by the group
            }
        }
    }

    private void waitBackoff(long ms) throws InterruptedException {
        Object o = new Object();
        synchronized (o) {
            long deadline = System.nanoTime() + Duration.ofMillis(ms).toNanos();
            long left;
            while (running && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(o, left);
            }
        }
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    @Override
    public void close() {
        running = false;
        synchronized (bytesLock) {
            bytesLock.notifyAll();
        }
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
