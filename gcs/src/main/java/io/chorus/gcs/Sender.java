package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * Batches this member's appends into log entries and submits them on one named thread, with up to
 * {@value #MAX_IN_FLIGHT} entries in flight. Entries are numbered per incarnation (a random id per sender) and the
 * state machine applies an origin's entries only in number order ({@link OriginTable}): an entry whose predecessor was
 * lost with a leader is rejected, so an origin's records are committed in the order of their appends whatever happens
 * to leaders. While entries are in flight, new appends queue up and form the next, larger entries, so batching grows
 * with the load.
 *
 * <p>Each attempt has a deadline ({@link #ATTEMPT_TIMEOUT}) because a request forwarded to a leader that dies is never
 * answered; a leader change also ends it early. When the oldest unconfirmed entry's attempt fails, every unconfirmed
 * entry is sent again, in order, under its number: a retry is exact (an entry applied before gets its cached answer,
 * one not applied is applied once, in order). Without a primary component entries wait (for a membership change,
 * bounded by the records' deadline) and then fail with {@link GcsException.Kind#TIMEOUT}.
 *
 * <p>A failure is sticky, so that an origin's records are never committed out of order: once an entry failed, every
 * record queued or in flight behind it fails too, and so does every new append, until {@link #resume()}. The caller
 * then sends again, in order, from its first record that was not confirmed (a record that did commit is dropped as a
 * duplicate); the sender starts a new incarnation for them.
 */
final class Sender implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Sender.class);
    static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_IN_FLIGHT = 8;
    private static final int MAX_ENTRY_BYTES = 1 << 20;
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** Submits an encoded entry to the log (leader or via redirect). */
    interface LogClient {
        CompletableFuture<byte[]> submit(byte[] entry) throws Exception;
    }

    /** One queued record and its caller's future. */
    record Pending(long seq, byte[] payload, Map<Long, byte[]> catalog, CompletableFuture<Gsn> future, long deadline) {
        int bytes() {
            int n = payload.length;
            for (byte[] d : catalog.values()) {
                n += d.length + 12;
            }
            return n;
        }
    }

    private final NodeId self;
    private final String groupName;
    private final LogClient client;
    private final MembershipMonitor monitor;
    private final Duration appendTimeout;
    private final int maxBatch;
    private final BlockingQueue<Pending> queue;
    private final Deque<InFlight> inFlight = new ArrayDeque<>();
    private final Thread thread;
    private long incarnation = ThreadLocalRandom.current().nextLong();
    private long batchNo;
    /** Unconfirmed entries must be sent again (in order) once this time has come and the group is primary. */
    private boolean resendDue;
    private long resendAt;
    private final LongAdder entriesCommitted = new LongAdder();
    private final LongAdder recordsCommitted = new LongAdder();
    private final LongAdder resubmissions = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private volatile boolean closed;
    private volatile GcsException stopped;

    Sender(GroupConfig cfg, LogClient client, MembershipMonitor monitor) {
        this.self = cfg.self();
        this.groupName = cfg.groupName();
        this.client = client;
        this.monitor = monitor;
        this.appendTimeout = cfg.appendTimeout();
        this.maxBatch = cfg.maxBatchRecords();
        this.queue = new ArrayBlockingQueue<>(cfg.queueCapacity());
        this.thread = new Thread(this::run, "chorus-gcs-send-" + self);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Queues a record; blocks while the send queue is full (flow control). */
    CompletableFuture<Gsn> append(long seq, byte[] payload, Map<Long, byte[]> catalog) {
        CompletableFuture<Gsn> f = new CompletableFuture<>();
        GcsException failedBefore = stopped;
        if (failedBefore != null) {
            f.completeExceptionally(afterFailure(failedBefore));
            return f;
        }
        Pending p = new Pending(seq, payload.clone(), Map.copyOf(catalog), f,
                System.nanoTime() + appendTimeout.toNanos());
        try {
            while (!queue.offer(p, 100, TimeUnit.MILLISECONDS)) {
                if (closed) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.completeExceptionally(new GcsException(GcsException.Kind.FAILED, "interrupted while queueing an append"));
        }
        if (closed) {
            f.completeExceptionally(closedError());
        }
        LockSupport.unpark(thread);
        return f;
    }

    private GcsException closedError() {
        return new GcsException(GcsException.Kind.CLOSED, "group '" + groupName + "' member " + self
                + " is closed; join the group again to append");
    }

    /** Fills the sender's part of the statistics. */
    GroupStats stats(long appliedGsn, long deliveredGsn, int deliveryQueueDepth, long deliveryHeldMillis) {
        return new GroupStats(appliedGsn, deliveredGsn, queue.size(), deliveryQueueDepth, entriesCommitted.sum(),
                recordsCommitted.sum(), resubmissions.sum(), timeouts.sum(), deliveryHeldMillis);
    }

    private void run() {
        ThreadContext.put("node", self.value());
        try {
            while (!closed) {
                boolean progressed = fill();
                progressed |= settleHead();
                if (!progressed) {
                    LockSupport.parkNanos(this, POLL_NANOS);
                }
            }
        } finally {
            failAll(closedError());
        }
    }

    /** Forms entries from queued records while fewer than {@value #MAX_IN_FLIGHT} are in flight; never blocks. */
    private boolean fill() {
        GcsException failed = stopped;
        if (failed != null) {
            Pending p;
            while ((p = queue.poll()) != null) { // queued while the failure happened: never sent out of order
                p.future().completeExceptionally(afterFailure(failed));
            }
            return false;
        }
        boolean formed = false;
        while (inFlight.size() < MAX_IN_FLIGHT && !queue.isEmpty()) {
            List<Pending> batch = new ArrayList<>(Math.min(maxBatch, queue.size()));
            int bytes = 0;
            while (batch.size() < maxBatch) {
                Pending next = queue.peek();
                if (next == null || (!batch.isEmpty() && bytes + next.bytes() > MAX_ENTRY_BYTES)) {
                    break;
                }
                batch.add(queue.poll());
                bytes += next.bytes();
            }
            InFlight e = new InFlight(batch, self.value(), incarnation, ++batchNo);
            inFlight.addLast(e);
            if (!resendDue && monitor.current().primary()) {
                submit(e);
            } else {
                resendDue = true;
            }
            formed = true;
        }
        return formed;
    }

    /** Completes the oldest entries once answered; schedules a resend when the oldest one failed. Never blocks. */
    private boolean settleHead() {
        boolean progressed = false;
        InFlight head;
        while ((head = inFlight.peekFirst()) != null) {
            long now = System.nanoTime();
            if (now - head.deadline() > 0) {
                expire(head);
                return true;
            }
            if (resendDue) {
                return resendIfDue(now) || progressed;
            }
            InFlight.State state = head.state(now, monitor.current().leader());
            switch (state) {
                case PENDING -> {
                    return progressed;
                }
                case APPLIED -> {
                    inFlight.removeFirst();
                    entriesCommitted.increment();
                    recordsCommitted.add(head.records().size());
                    head.complete();
                    progressed = true;
                }
                case OUT_OF_ORDER -> {
                    // every entry before the head was applied: a first rejection is stale (the predecessor applied
                    // after it); a repeated one means this origin's row belongs to another incarnation
                    if (head.rejections() > 1) {
                        renumber(head.expectedBatch());
                    }
                    scheduleResend(0);
                    return true;
                }
                default -> {
                    scheduleResend(state == InFlight.State.FAILED ? POLL_NANOS : 0);
                    return true;
                }
            }
        }
        return progressed;
    }

    private void scheduleResend(long afterNanos) {
        resendDue = true;
        resendAt = System.nanoTime() + afterNanos;
    }

    /** Sends every unconfirmed entry again, in order, once the back-off passed and the group is primary. */
    private boolean resendIfDue(long now) {
        if (now - resendAt < 0 || !monitor.current().primary()) {
            return false;
        }
        resendDue = false;
        for (InFlight e : inFlight) {
            if (e.attempted()) {
                resubmissions.increment();
            }
            submit(e);
        }
        return true;
    }

    private void submit(InFlight e) {
        long end = Math.min(e.deadline(), System.nanoTime() + ATTEMPT_TIMEOUT.toNanos());
        try {
            CompletableFuture<byte[]> f = client.submit(e.bytes());
            f.whenComplete((r, t) -> LockSupport.unpark(thread));
            e.attempt(f, end, monitor.current().leader());
        } catch (Exception ex) {
            LOG.debug("submit of entry {} failed: {}", e.batchNo(), ex.toString());
            e.attempt(CompletableFuture.failedFuture(ex), end, monitor.current().leader());
        }
    }

    /**
     * The log expects another entry number than the oldest unconfirmed entry has: this origin's row belongs to another
     * incarnation. Nothing unconfirmed was applied (entries apply only in order), so they are renumbered under a new
     * incarnation and sent again.
     */
    private void renumber(long expected) {
        incarnation = ThreadLocalRandom.current().nextLong();
        batchNo = 0;
        LOG.info("log expects entry {} of this member's incarnation, not {}; resending {} entries as a new "
                + "incarnation", expected, inFlight.peekFirst().batchNo(), inFlight.size());
        for (InFlight e : inFlight) {
            e.renumber(incarnation, ++batchNo);
        }
    }

    /** The oldest entry ran out of time: fails it and everything behind it (sticky) and starts a new incarnation. */
    private void expire(InFlight head) {
        timeouts.increment();
        GcsException e = timeoutError(head);
        stopped = e;
        head.fail(e);
        inFlight.removeFirst();
        failAll(afterFailure(e));
        incarnation = ThreadLocalRandom.current().nextLong();
        batchNo = 0;
        resendDue = false;
    }

    /** Lets appends through again after a failure; the caller resends from its first unconfirmed record. */
    void resume() {
        stopped = null;
    }

    private static GcsException afterFailure(GcsException first) {
        return new GcsException(first.kind(), "not sent: an earlier append of this member failed ("
                + first.getMessage() + "); resume appends and send again in order from the first unconfirmed record");
    }

    private GcsException timeoutError(InFlight head) {
        List<Pending> batch = head.records();
        return new GcsException(GcsException.Kind.TIMEOUT, "append of " + batch.size() + " record(s) (origin "
                + self + ", originSeq " + batch.get(0).seq() + ".." + batch.get(batch.size() - 1).seq()
                + ") was not committed within " + appendTimeout.toMillis() + " ms after " + head.attempts()
                + " attempt(s); group '" + groupName + "' is " + monitor.current()
                + ". The records may still be committed: retry the same records in order once the group has a "
                + "primary component (a majority of the voters reachable)");
    }

    private void failAll(GcsException e) {
        InFlight entry;
        while ((entry = inFlight.pollFirst()) != null) {
            entry.fail(e);
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.future().completeExceptionally(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(ATTEMPT_TIMEOUT.toMillis() + 1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt();
        }
    }
}
