package io.chorus.coordinator.apply;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Cuts the submitted units into batches, in GSN order, and hands each batch to an idle helper once no batch in flight
 * meets its keys. Batches start in GSN order, so the head of the line always holds a helper. Units with nothing to
 * write (self-delivered changesets without restores or conflicts, progress-only entries) are held and folded into the
 * next batch; after {@link ApplierConfig#idleFlush()} without one they go alone, as a progress-only transaction.
 *
 * <p>Runs on its own thread; thread-safe entry point {@link #stop()}.
 */
final class Dispatcher implements Runnable {
    private static final Logger LOG = LogManager.getLogger(Dispatcher.class);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How often a batch that waits for admission looks for more units to take along. */
    private static final long BLOCKED_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final ApplierConfig config;
    private final UnitQueue queue;
    private final BlockingQueue<Helper> idle;
    private final Sequencer sequencer;
    private final List<ApplyUnit> held = new ArrayList<>();
    private long heldSince;
    private volatile boolean stopped;

    Dispatcher(ApplierConfig config, UnitQueue queue, BlockingQueue<Helper> idle, Sequencer sequencer) {
        this.config = config;
        this.queue = queue;
        this.idle = idle;
        this.sequencer = sequencer;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        try {
            while (!stopped && !sequencer.aborted()) {
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!held.isEmpty()) {
            LOG.debug("applier closing with {} progress-only units not flushed (from GSN {})", held.size(),
                    held.get(0).gsn());
        }
    }

    private void step() throws InterruptedException {
        long wait = held.isEmpty() ? POLL_NANOS : heldSince + config.idleFlush().toNanos() - System.nanoTime();
        ApplyUnit first = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
        if (first == null) {
            if (!held.isEmpty() && System.nanoTime() - heldSince >= config.idleFlush().toNanos()) {
                dispatch(takeHeld());
            }
            return;
        }
        List<ApplyUnit> units = takeHeld();
        units.add(first);
        boolean work = first.hasWork();
        int count = 1;
        long bytes = first.estimatedBytes();
        ApplyUnit next;
        while (count < config.maxBatch() && bytes < batchBytes() && (next = queue.poll()) != null) {
            units.add(next);
            work |= next.hasWork();
            bytes += next.estimatedBytes();
            count++;
        }
        if (work) {
            dispatch(units);
        } else {
            if (held.isEmpty() && units.size() == count) {
                heldSince = System.nanoTime();
            }
            held.addAll(units);
        }
    }

    /**
     * Estimated bytes after which a batch takes no more units: a quarter of the queue's byte budget, so the batches in
     * flight hold about as much as the queue at most (large TOAST changesets make small batches).
     */
    private long batchBytes() {
        return Math.max(1, config.queueBytes() / 4);
    }

    private List<ApplyUnit> takeHeld() {
        List<ApplyUnit> units = new ArrayList<>(held);
        held.clear();
        return units;
    }

    private void dispatch(List<ApplyUnit> units) throws InterruptedException {
        Helper h = null;
        while (h == null) {
            if (stopped || sequencer.aborted()) {
                return;
            }
            h = idle.poll(POLL_NANOS, TimeUnit.NANOSECONDS);
        }
        Batch b = admit(units);
        if (b == null) {
            idle.add(h);
            return;
        }
        LOG.trace("dispatching {} to helper {}", b, h.name());
        h.assign(b);
    }

    /**
     * Admits a batch of {@code units}. While a batch in flight meets it, the units that arrive meanwhile join it (up
     * to {@code maxBatch}): they would wait behind it anyway, and one transaction for all of them saves a capture sync
     * and a commit each. Returns the admitted batch, or null when the applier stopped.
     */
    private Batch admit(List<ApplyUnit> units) throws InterruptedException {
        Batch b = new Batch(units);
        long bytes = -1; // the units' estimated bytes, summed once the batch first waits
        while (true) {
            switch (sequencer.admit(b, BLOCKED_POLL_NANOS)) {
                case ADMITTED:
                    return b;
                case STOPPED:
                    return null;
                default:
                    if (stopped) {
                        return null;
                    }
                    if (bytes < 0) {
                        bytes = 0;
                        for (ApplyUnit u : units) {
                            bytes += u.estimatedBytes();
                        }
                    }
                    int before = units.size();
                    ApplyUnit next;
                    while (units.size() < config.maxBatch() && bytes < batchBytes() && (next = queue.poll()) != null) {
                        units.add(next);
                        bytes += next.estimatedBytes();
                    }
                    if (units.size() > before) {
                        b = new Batch(units);
                    }
            }
        }
    }
}
