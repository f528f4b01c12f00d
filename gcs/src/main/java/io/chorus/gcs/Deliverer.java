package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Hands what the log delivers to the {@link GroupListener} on one named thread through a queue bounded both in events
 * (the configured capacity) and in payload bytes ({@value #MAX_QUEUED_BYTES}; a single larger record still passes
 * alone). The producer side ({@link #record}, {@link #snapshotInstalled}) is called by the Raft thread only; a full
 * queue blocks it (back-pressure: this member's log stops applying and falls behind, it does not drop anything; the
 * group goes on, and the leader catches the member up once the listener has caught up; on the leader itself it
 * stops the group's commits until the listener consumes again). {@link #membership} may be called from any thread and
 * never blocks.
 */
final class Deliverer implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Deliverer.class);
    static final long MAX_QUEUED_BYTES = 64L << 20;

    private sealed interface Event permits Delivered, MembershipChanged, TransferNeeded, HistoryChanged, Stop {
    }

    private record Delivered(long gsn, NodeId origin, long seq, byte[] payload) implements Event {
    }

    private record MembershipChanged(Membership membership) implements Event {
    }

    private record TransferNeeded(String reason) implements Event {
    }

    private record HistoryChanged(History line) implements Event {
    }

    private record Stop() implements Event {
    }

    private final NodeId self;
    private final GroupListener listener;
    private final BlockingQueue<Event> queue;
    private final Thread thread;
    private final java.util.concurrent.atomic.AtomicReference<Membership> latestMembership =
            new java.util.concurrent.atomic.AtomicReference<>();
    private volatile boolean closed;
    /** Highest GSN handed to the queue (or skipped as at or below resumeAfter); Raft thread only. */
    private long handedOff;
    private volatile long delivered;
    /** How long the log may wait for the listener before it is said (WARN), once per episode. */
    static final long HELD_WARN_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Raft thread only: when the hand-offs began to wait for room (0: none since the queue was half empty). */
    private long heldSince;
    private boolean heldWarned;
    /** Start of the hand-off waiting for room now (0: none); read by {@link #heldMillis}. */
    private volatile long waitingSince;
    private final java.util.concurrent.atomic.LongAdder heldNanos = new java.util.concurrent.atomic.LongAdder();
    private final Object bytesLock = new Object();
    /** Payload bytes of the records in the queue; guarded by bytesLock. */
    private long queuedBytes;

    Deliverer(NodeId self, GroupListener listener, Gsn resumeAfter, int capacity) {
        this.self = self;
        this.listener = listener;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.handedOff = resumeAfter.value();
        this.delivered = resumeAfter.value();
        this.thread = new Thread(this::run, "chorus-gcs-deliver-" + self);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** A record got GSN {@code gsn}; hands it off unless it is at or below the resume point. */
    void record(long gsn, String origin, long seq, byte[] payload) {
        if (gsn <= handedOff) {
            return;
        }
        if (gsn != handedOff + 1) {
            throw new IllegalStateException("delivery gap: GSN " + gsn + " follows " + handedOff
                    + "; the log's state machine is inconsistent");
        }
        long start = System.nanoTime();
        boolean waited = reserve(payload.length, start);
        waited |= put(new Delivered(gsn, NodeId.of(origin), seq, payload), start);
        handedOff = gsn;
        long now = System.nanoTime();
        waitingSince = 0;
        if (waited) {
            heldNanos.add(now - start);
        } else if (heldSince != 0 && queue.remainingCapacity() > queue.size()) { // ended: the queue half empty
            if (heldWarned) {
                LOG.info("the group's log no longer waits for this member's applier (it waited {} ms)",
                        TimeUnit.NANOSECONDS.toMillis(now - heldSince));
            }
            heldSince = 0;
            heldWarned = false;
        }
    }

    /**
     * A hand-off that began at {@code start} waits for room: it holds the group's log (this member's RAFT thread). Said
     * once per episode past {@link #HELD_WARN_NANOS}, with what the listener holds, and again when it ends: on the
     * leader every member's appends wait meanwhile (the design's flow control), and their senders may time out and
     * send again.
     */
    private void waiting(long start) {
        if (start == 0) {
            return; // not a record (history, transfer): not accounted
        }
        waitingSince = start;
        if (heldSince == 0) {
            heldSince = start;
        }
        long now = System.nanoTime();
        if (!heldWarned && now - heldSince > HELD_WARN_NANOS) {
            heldWarned = true;
            LOG.warn("the group's log has waited {} ms for this member's applier: {} record(s) queued, delivered up to "
                    + "GSN {}; while this member leads the group every member's appends wait (flow control)",
                    TimeUnit.NANOSECONDS.toMillis(now - heldSince), queue.size(), delivered);
        }
    }

    /** Total time the log waited for room in this member's delivery queue, in milliseconds. */
    long heldMillis() {
        long w = waitingSince;
        return TimeUnit.NANOSECONDS.toMillis(heldNanos.sum() + (w == 0 ? 0 : System.nanoTime() - w));
    }

    /**
     * The log's history line changed (a history entry applied, or a snapshot with another line loaded): queued in log
     * order, so the listener hears of it before any record numbered after the fork.
     */
    void history(History line) {
        put(new HistoryChanged(line), 0);
    }

    /** The state machine was loaded from a snapshot ending at {@code snapshotGsn}. */
    void snapshotInstalled(long snapshotGsn, String where) {
        if (snapshotGsn > handedOff) {
            String reason = "records " + (handedOff + 1) + ".." + snapshotGsn + " are no longer in the log ("
                    + where + " snapshot ends at GSN " + snapshotGsn + "); deliveries resume at GSN "
                    + (snapshotGsn + 1) + " after a full transfer";
            LOG.warn("full transfer needed: {}", reason);
            put(new TransferNeeded(reason), 0);
            handedOff = snapshotGsn;
        }
    }

    /**
     * Queues a membership change without blocking (the monitor thread must keep observing the group while a slow
     * listener holds the queue full): when the queue is full, the latest change waits in a slot and is delivered
     * after the next event.
     */
    void membership(Membership m) {
        if (!queue.offer(new MembershipChanged(m))) {
            latestMembership.set(m);
        }
    }

    /** The highest GSN the listener has returned from. */
    long delivered() {
        return delivered;
    }

    /** Waits until {@code bytes} more fit in the queue's byte budget (or the queue is empty, or closed). */
    private boolean reserve(long bytes, long start) {
        boolean waited = false;
        synchronized (bytesLock) {
            try {
                while (!closed && queuedBytes > 0 && queuedBytes + bytes > MAX_QUEUED_BYTES) {
                    waited = true;
                    waiting(start);
                    bytesLock.wait(100);
                }
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            queuedBytes += bytes;
        }
        return waited;
    }

    private void released(long bytes) {
        synchronized (bytesLock) {
            queuedBytes -= bytes;
            bytesLock.notifyAll();
        }
    }

    /** Payload bytes waiting for the listener. */
    long queuedBytes() {
        synchronized (bytesLock) {
            return queuedBytes;
        }
    }

    /** Queues {@code e}, waiting for room; returns whether it had to wait (start 0: not accounted). */
    private boolean put(Event e, long start) {
        if (queue.offer(e)) {
            return false;
        }
        try {
            while (!closed) {
                waiting(start);
                if (queue.offer(e, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    int queueDepth() {
        return queue.size();
    }

    private void run() {
        org.apache.logging.log4j.ThreadContext.put("node", self.value());
        try {
            while (true) {
                Event e = queue.take();
                if (e instanceof Stop) {
                    return;
                }
                dispatch(e);
                Membership late = latestMembership.getAndSet(null);
                if (late != null) {
                    dispatch(new MembershipChanged(late));
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private void dispatch(Event e) {
        try {
            if (e instanceof Delivered d) {
                released(d.payload().length);
                listener.onDelivered(Gsn.of(d.gsn()), d.origin(), d.seq(), d.payload());
                delivered = d.gsn();
            } else if (e instanceof MembershipChanged m) {
                listener.onMembership(m.membership());
            } else if (e instanceof HistoryChanged h) {
                listener.onHistory(h.line());
            } else if (e instanceof TransferNeeded t) {
                listener.onFullTransferNeeded(t.reason());
            }
        } catch (RuntimeException ex) {
            LOG.error("group listener failed on {}; the listener must not throw", e, ex);
        }
    }

    /** Stops after the events already queued; waits at most 5 s for the listener, then interrupts it. */
    @Override
    public void close() {
        closed = true;
        if (!queue.offer(new Stop())) {
            thread.interrupt();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("delivery thread {} did not stop within 5 s (listener busy); interrupting it", thread.getName());
            thread.interrupt();
        }
    }
}
