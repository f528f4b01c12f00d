package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Batches this member's appends into log entries and submits them, one entry in flight at a time, on one named
 * thread. One entry in flight keeps an origin's records in submission order whatever happens to leaders, and makes
 * every retry exact: a retried entry is either the origin's last applied entry (answered from the
 * {@link OriginTable}) or was never applied. While an entry is in flight, new appends queue up and form the next,
 * larger entry, so batching grows with the load.
 *
 * <p>Each attempt has a deadline ({@link #ATTEMPT_TIMEOUT}) because a request forwarded to a leader that dies is
 * never answered; a leader change also ends the attempt early. Without a primary component the entry waits (for a
 * membership change, bounded by the records' deadline) and then fails with {@link GcsException.Kind#TIMEOUT}.
 *
 * <p>A failure is sticky, so that an origin's records are never committed out of order: once an entry failed, every
 * record queued behind it fails too, and so does every new append, until {@link #resume()}. The caller then sends
 * again, in order, from its first record that was not confirmed (a record that did commit is dropped as a duplicate).
 */
final class Sender implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Sender.class);
    static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_ENTRY_BYTES = 1 << 20;
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** Submits an encoded entry to the log (leader or via redirect). */
    interface LogClient {
        CompletableFuture<byte[]> submit(byte[] entry) throws Exception;
    }

    private record Pending(long seq, byte[] payload, CompletableFuture<Gsn> future, long deadline) {
    }

    private final NodeId self;
    private final String groupName;
    private final LogClient client;
    private final MembershipMonitor monitor;
    private final Duration appendTimeout;
    private final int maxBatch;
    private final BlockingQueue<Pending> queue;
    private final Thread thread;
    private final long incarnation = ThreadLocalRandom.current().nextLong();
    private long batchNo;
    private final java.util.concurrent.atomic.LongAdder entriesCommitted = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder recordsCommitted = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder resubmissions = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder timeouts = new java.util.concurrent.atomic.LongAdder();
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
    CompletableFuture<Gsn> append(long seq, byte[] payload) {
        CompletableFuture<Gsn> f = new CompletableFuture<>();
        GcsException failedBefore = stopped;
        if (failedBefore != null) {
            f.completeExceptionally(afterFailure(failedBefore));
            return f;
        }
        Pending p = new Pending(seq, payload.clone(), f, System.nanoTime() + appendTimeout.toNanos());
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
        return f;
    }

    private GcsException closedError() {
        return new GcsException(GcsException.Kind.CLOSED, "group '" + groupName + "' member " + self
                + " is closed; join the group again to append");
    }

    /** Fills the sender's part of the statistics. */
    GroupStats stats(long appliedGsn, long deliveredGsn, int deliveryQueueDepth) {
        return new GroupStats(appliedGsn, deliveredGsn, queue.size(), deliveryQueueDepth, entriesCommitted.sum(),
                recordsCommitted.sum(), resubmissions.sum(), timeouts.sum());
    }

    private void run() {
        org.apache.logging.log4j.ThreadContext.put("node", self.value());
        List<Pending> batch = new ArrayList<>(maxBatch);
        try {
            while (!closed) {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.clear();
                batch.add(first);
                int bytes = first.payload().length;
                while (batch.size() < maxBatch && bytes < MAX_ENTRY_BYTES) {
                    Pending next = queue.peek();
                    if (next == null || bytes + next.payload().length > MAX_ENTRY_BYTES) {
                        break;
                    }
                    batch.add(queue.poll());
                    bytes += next.payload().length;
                }
                send(batch);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            failAll(batch);
        }
    }

    private void send(List<Pending> batch) throws InterruptedException {
        List<EntryCodec.Rec> records = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            records.add(new EntryCodec.Rec(p.seq(), p.payload()));
        }
        byte[] entry = EntryCodec.encode(self.value(), incarnation, ++batchNo, System.currentTimeMillis(), records);
        long deadline = batch.get(0).deadline();
        int attempts = 0;
        while (!closed) {
            if (System.nanoTime() - deadline > 0) {
                GcsException e = timeoutError(batch, attempts);
                stopped = e;
                fail(batch, e);
                Pending p;
                while ((p = queue.poll()) != null) {
                    p.future().completeExceptionally(afterFailure(e));
                }
                return;
            }
            long version = monitor.version();
            Membership m = monitor.current();
            if (!m.primary()) {
                monitor.awaitChange(version, Math.min(deadline - System.nanoTime(), POLL_NANOS * 10));
                continue;
            }
            if (attempts++ > 0) {
                resubmissions.increment();
            }
            long[] gsns = attempt(entry, batch.size(), m.leader(), deadline);
            if (gsns != null) {
                entriesCommitted.increment();
                recordsCommitted.add(batch.size());
                complete(batch, gsns);
                return;
            }
        }
        fail(batch, closedError());
    }

    /** One attempt; the GSNs on success, null when it must be retried. */
    private long[] attempt(byte[] entry, int records, Optional<NodeId> leader, long deadline)
            throws InterruptedException {
        CompletableFuture<byte[]> f;
        try {
            f = client.submit(entry);
        } catch (Exception e) {
            LOG.debug("submit to leader {} failed: {}", leader, e.toString());
            monitor.awaitChange(monitor.version(), POLL_NANOS);
            return null;
        }
        long end = Math.min(deadline, System.nanoTime() + ATTEMPT_TIMEOUT.toNanos());
        while (!closed && System.nanoTime() - end < 0) {
            try {
                byte[] answer = f.get(POLL_NANOS, TimeUnit.NANOSECONDS);
                if (answer == null || answer.length != records * 8) {
                    // not the state machine's answer (a request completed on a leader change, without applying):
                    // the outcome is unknown, and re-sending is exact
                    LOG.warn("entry answered without its {} GSNs via leader {} ({} bytes); resubmitting it", records,
                            leader.orElse(null), answer == null ? "null" : answer.length);
                    return null;
                }
                return EntryCodec.decodeResponse(answer);
            } catch (TimeoutException e) {
                if (!monitor.current().leader().equals(leader)) {
                    LOG.info("leader changed from {} to {} while an entry was in flight; resubmitting it",
                            leader.orElse(null), monitor.current().leader().orElse(null));
                    return null;
                }
            } catch (ExecutionException e) {
                LOG.debug("entry attempt via leader {} failed: {}", leader, e.getCause().toString());
                monitor.awaitChange(monitor.version(), POLL_NANOS);
                return null;
            }
        }
        LOG.info("entry not committed within {} ms via leader {}; resubmitting it", ATTEMPT_TIMEOUT.toMillis(),
                leader.orElse(null));
        return null;
    }

    /** Lets appends through again after a failure; the caller resends from its first unconfirmed record. */
    void resume() {
        stopped = null;
    }

    private static GcsException afterFailure(GcsException first) {
        return new GcsException(first.kind(), "not sent: an earlier append of this member failed ("
                + first.getMessage() + "); resume appends and send again in order from the first unconfirmed record");
    }

    private GcsException timeoutError(List<Pending> batch, int attempts) {
        return new GcsException(GcsException.Kind.TIMEOUT, "append of " + batch.size() + " record(s) (origin "
                + self + ", originSeq " + batch.get(0).seq() + ".." + batch.get(batch.size() - 1).seq()
                + ") was not committed within " + appendTimeout.toMillis() + " ms after " + attempts
                + " attempt(s); group '" + groupName + "' is " + monitor.current()
                + ". The records may still be committed: retry the same records in order once the group has a "
                + "primary component (a majority of the voters reachable)");
    }

    private static void complete(List<Pending> batch, long[] gsns) {
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).future().complete(Gsn.of(i < gsns.length ? gsns[i] : 0));
        }
    }

    private static void fail(List<Pending> batch, GcsException e) {
        for (Pending p : batch) {
            p.future().completeExceptionally(e);
        }
    }

    private void failAll(List<Pending> batch) {
        GcsException e = closedError();
        for (Pending p : batch) {
            p.future().completeExceptionally(e);
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.future().completeExceptionally(e);
        }
    }

    @Override
    public void close() {
        closed = true;
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
