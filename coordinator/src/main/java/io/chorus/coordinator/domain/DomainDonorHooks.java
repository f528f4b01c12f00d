package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.recovery.DonorHooks;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** What a donor needs from its {@link Domain}; every wait bounded. Thread-safe. */
final class DomainDonorHooks implements DonorHooks {
    private final Domain domain;
    private final java.util.concurrent.ExecutorService syncs;
    private volatile java.util.concurrent.Future<?> running;

    DomainDonorHooks(Domain domain, String database) {
        this.domain = domain;
        this.syncs = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(1), r -> {
                    Thread t = new Thread(r, "chorus-donor-sync-" + database);
                    t.setDaemon(true);
                    return t;
                });
    }

    @Override
    public boolean online() {
        return domain.state() == DomainState.ONLINE;
    }

    /**
     * The capture sync extends its own wait while the capture makes progress (a backlog); a donor holding writers must
     * not wait that long, so the sync runs on its own thread and the donor gives up at {@code timeout}.
     */
    @Override
    public void syncCapture(Duration timeout) throws InterruptedException {
        java.util.concurrent.Future<?> f = running;
        if (f == null || f.isDone()) { // a sync given up earlier may still run: wait for that one instead
            f = syncs.submit(() -> {
                domain.captureSync().await(timeout);
                return null;
            });
            running = f;
        }
        try {
            f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new io.chorus.changeset.ChorusException("the capture did not catch up with the end of WAL within "
                    + timeout.toSeconds() + " s", e, true);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof io.chorus.changeset.ChorusException c ? c
                    : new io.chorus.changeset.ChorusException("capture sync failed: " + e.getCause(), e.getCause(), true);
        }
    }

    @Override
    public boolean awaitLocalsDelivered(long deadlineNanos) throws InterruptedException {
        return domain.awaitLocalsDelivered(deadlineNanos);
    }

    @Override
    public Gsn delivered() {
        return Gsn.of(domain.deliveredGsn());
    }

    @Override
    public boolean awaitApplied(Gsn gsn, long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (domain.applier().appliedGsn().value() >= gsn.value()) {
            return true;
        }
        if (left <= 0) {
            return false;
        }
        try {
            domain.applier().awaitApplied(gsn, Duration.ofNanos(Math.max(left, TimeUnit.MILLISECONDS.toNanos(1))));
            return true;
        } catch (io.chorus.changeset.ChorusException e) {
            return domain.applier().appliedGsn().value() >= gsn.value();
        }
    }

    @Override
    public void append(byte[] record) {
        domain.appendRecord(record);
    }
}
