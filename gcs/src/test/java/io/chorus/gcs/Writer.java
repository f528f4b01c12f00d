package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Appends numbered records from one member on its own thread, at most {@code window} unacknowledged, and remembers
 * which were acknowledged; a TIMEOUT is retried with the same records in order, as the contract asks (tests).
 */
final class Writer implements AutoCloseable {
    private final Group group;
    private final String origin;
    private final Thread thread;
    private final Semaphore window;
    private final int windowSize;
    private final ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
    private final java.util.concurrent.ConcurrentHashMap<Long, Long> ackedGsn = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean stop;
    private volatile long next = 1;

    private final long pauseNanos;

    Writer(Group group, int window) {
        this(group, window, 0);
    }

    /** With {@code ratePerSecond} > 0 the writer paces itself (a load generator's pace, not a synchronisation). */
    Writer(Group group, int window, int ratePerSecond) {
        this.pauseNanos = ratePerSecond > 0 ? 1_000_000_000L / ratePerSecond : 0;
        this.group = group;
        this.origin = group.self().value();
        this.window = new Semaphore(window);
        this.windowSize = window;
        this.thread = new Thread(this::run, "writer-" + origin);
        thread.setDaemon(true);
        thread.start();
    }

    static byte[] payload(String origin, long seq) {
        return (origin + "/" + seq).getBytes(StandardCharsets.UTF_8);
    }

    private void run() {
        try {
            while (!stop) {
                if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                if (pauseNanos > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
                }
                long seq = next++;
                CompletableFuture<Gsn> f = group.append(seq, payload(origin, seq));
                f.whenComplete((gsn, err) -> {
                    window.release();
                    if (err == null) {
                        acked.add(seq);
                        ackedGsn.put(seq, gsn.value());
                    }
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sequence numbers acknowledged so far. */
    List<Long> acked() {
        return new ArrayList<>(acked);
    }

    /** The GSN an acknowledged append completed with (0 = duplicate of an earlier record). */
    long ackedGsn(long seq) {
        return ackedGsn.getOrDefault(seq, -1L);
    }

    String origin() {
        return origin;
    }

    long submitted() {
        return next - 1;
    }

    /** Stops appending and waits (at most 90 s) until every append made has completed. */
    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(10_000);
        if (!window.tryAcquire(windowSize, 90, TimeUnit.SECONDS)) {
            throw new AssertionError("appends of " + origin + " still outstanding 90 s after the writer stopped");
        }
    }
}
