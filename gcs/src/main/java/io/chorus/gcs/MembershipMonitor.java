package io.chorus.gcs;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Watches the membership (view, log voters, leader) on one named, scheduled thread and publishes each change: to
 * waiters ({@link #awaitChange}) and to a consumer (the delivery queue). Polling every {@value #PERIOD_MILLIS} ms
 * covers every source of change (views, elections, configuration changes) with one code path. Thread-safe.
 */
final class MembershipMonitor implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(MembershipMonitor.class);
    static final long PERIOD_MILLIS = 20;

    private final Supplier<Membership> source;
    private final Consumer<Membership> onChange;
    private final ScheduledExecutorService timer;
    private final Object lock = new Object();
    private Membership current = new Membership(List.of(), List.of(), Optional.empty(), false, 0);
    private long version;

    MembershipMonitor(String threadName, Supplier<Membership> source, Consumer<Membership> onChange) {
        this.source = source;
        this.onChange = onChange;
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, threadName);
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
    }

    void start() {
        timer.scheduleWithFixedDelay(this::poll, 0, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Runs {@code task} every {@code periodMillis} on the monitor's thread. */
    void every(long periodMillis, Runnable task) {
        timer.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("periodic group task failed: {}", e.toString(), e);
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Recomputes the membership now; called by the timer and after known changes. */
    void poll() {
        Membership m;
        try {
            m = source.get();
        } catch (RuntimeException e) {
            LOG.debug("membership not available yet: {}", e.toString());
            return;
        }
        synchronized (lock) {
            if (m.equals(current)) {
                return;
            }
            current = m;
            version++;
            lock.notifyAll();
        }
        LOG.info("membership: {}", m);
        onChange.accept(m);
    }

    Membership current() {
        synchronized (lock) {
            return current;
        }
    }

    long version() {
        synchronized (lock) {
            return version;
        }
    }

    /** Waits until the membership changes after {@code sinceVersion}, at most {@code nanos}; true if it did. */
    boolean awaitChange(long sinceVersion, long nanos) throws InterruptedException {
        long end = System.nanoTime() + nanos;
        synchronized (lock) {
            while (version == sinceVersion) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            if (!timer.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("membership monitor did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
