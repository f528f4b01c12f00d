package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Sends this node's records to the group in submission order, with many appends in flight so that the group can
 * batch them. When an append fails (timeout, leader change, minority), every record from the first unconfirmed one on
 * is sent again in the same order: the group drops a record whose (origin, sequence) it has already delivered, so a
 * retry never duplicates; and after a failure the group refuses every later append until {@link Sink#resume()}, so
 * nothing sent after the failed record can be committed before it.
 *
 * <p>{@link #submit} waits for the group only while {@code mayHoldBack} allows (flow control: the capture stops
 * reading, the slot keeps the WAL); otherwise records beyond the memory bound spill to disk ({@link AppendQueue}). The
 * domain allows it only while no helper waits for the capture: the group may wait for this node's applier, whose
 * head helper waits for the capture, and a capture waiting for the group would close that cycle. Owns one named
 * thread; thread-safe.
 */
final class Appender implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Appender.class);

    /**
     * One record to append: its origin sequence (0 = no dedupe), payload, and the catalog entries it brings (the
     * definitions of relation versions the group did not hold when it was encoded).
     */
    record Item(long originSeq, byte[] payload, java.util.Map<Long, byte[]> catalog) {
        Item(long originSeq, byte[] payload) {
            this(originSeq, payload, java.util.Map.of());
        }
    }

    /** The group's append operation. */
    interface Sink {
        CompletableFuture<?> append(long originSeq, byte[] payload, java.util.Map<Long, byte[]> catalog);

        /** After a failure the group refuses appends until this call (so an origin's records stay in order). */
        void resume();
    }

    private final AppendQueue queue;
    private final Sink sink;
    private final int maxInFlight;
    private final Consumer<ChorusException> onFatal;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param capacity  records held in memory at most
     * @param maxBytes  payload bytes held in memory at most (queued or unconfirmed; a larger record is taken alone)
     * @param spillFile where records beyond those bounds wait (deleted when it drains, at start and at close)
     * @param mayHoldBack whether {@link #submit} may wait for room now (asked again while it waits), else it spills
     */
    Appender(String name, Sink sink, int capacity, long maxBytes, int maxInFlight, Path spillFile,
             BooleanSupplier mayHoldBack, Consumer<ChorusException> onFatal) {
        this.queue = new AppendQueue(spillFile, maxBytes, capacity, mayHoldBack);
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
     * Queues a record behind every record submitted before it. At the memory bound, blocks for room while
     * {@code mayHoldBack} allows, else writes the record to the spill file.
     *
     * @throws ChorusException (not retriable) when the record cannot be spilled (disk full): nothing was queued, and
     *                         the domain must stop
     */
    void submit(Item item) throws InterruptedException {
        queue.put(item);
    }

    /** How many times a submitter waited for room: it changes while the group holds the submitter back. */
    long heldBack() {
        return queue.heldBack();
    }

    /** Records waiting for the group (memory and disk), not counting those in flight. */
    long depth() {
        return queue.depth();
    }

    /** Records waiting on disk. */
    long spilled() {
        return queue.spilled();
    }

    /** Payload bytes in memory, queued or unconfirmed. */
    long memoryBytes() {
        return queue.memoryBytes();
    }

    private void run() {
        Deque<Item> unconfirmed = new ArrayDeque<>();
        Deque<CompletableFuture<?>> futures = new ArrayDeque<>();
        long backoffMs = 100;
        try {
            while (running) {
                // confirmed records leave in order; a failure of the oldest one resends everything unconfirmed
                CompletableFuture<?> head;
                while ((head = futures.peekFirst()) != null && head.isDone()) {
                    try {
                        head.get();
                        futures.removeFirst();
                        queue.release(unconfirmed.removeFirst());
                        backoffMs = 100;
                    } catch (ExecutionException e) {
                        LOG.warn("append failed ({}); resending {} records in order after {} ms", rootMessage(e),
                                unconfirmed.size(), backoffMs);
                        drain(futures);
                        waitBackoff(backoffMs);
                        backoffMs = Math.min(backoffMs * 2, 5_000);
                        futures.clear();
                        sink.resume();
                        for (Item i : new ArrayList<>(unconfirmed)) {
                            futures.addLast(send(i));
                        }
                    }
                }
                if (unconfirmed.size() < maxInFlight) {
                    // a new record goes out at once, while older ones are in flight: the group batches what queues
                    // up behind its entries in flight, and a record never waits for an unrelated commit first
                    Item next = queue.poll(futures.isEmpty() ? 200 : 1_000);
                    if (next != null) {
                        unconfirmed.addLast(next);
                        futures.addLast(send(next));
                    }
                } else {
                    try {
                        futures.peekFirst().get(1, TimeUnit.SECONDS);
                    } catch (TimeoutException | ExecutionException e) {
                        // still in flight (the group's own deadline fails it eventually), or settled above
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ChorusException e) {
            onFatal.accept(e);
        } catch (RuntimeException e) {
            onFatal.accept(new ChorusException("appending to the group failed: " + e.getMessage(), e));
        }
    }

    /** Hands a record to the group; its outcome wakes this thread (see {@link AppendQueue#wake}). */
    private CompletableFuture<?> send(Item i) {
        CompletableFuture<?> f = sink.append(i.originSeq(), i.payload(), i.catalog());
        f.whenComplete((r, t) -> queue.wake());
        return f;
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
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        queue.close();
    }
}
