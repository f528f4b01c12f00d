package io.chorus.coordinator.sidecar;

import java.util.concurrent.TimeUnit;

/**
 * When a stopped domain of one database starts again. A restart waits a back-off that doubles with every restart, from
 * {@link #FIRST_BACKOFF_MS} up to {@link #MAX_BACKOFF_MS}, so a node that keeps failing does not consume the cluster;
 * once a restarted domain stayed healthy (ONLINE) for the configured time, the back-off starts from the first value
 * again, so that the next fault, maybe hours later, is not answered minutes late.
 *
 * <p>Thread-safe: failures are scheduled from the domain's threads, due restarts are taken by the control thread.
 * Never blocks. Times are {@link System#nanoTime()} values passed in by the caller.
 *
 * @param <D> the failed thing that a restart replaces (a restart is dropped once another one replaced it)
 */
final class RestartSchedule<D> {
    static final long FIRST_BACKOFF_MS = 2_000;
    static final long MAX_BACKOFF_MS = 300_000;

    /** A restart that is due: the failed domain and why it stopped. */
    record Due<D>(D failed, String why) {
    }

    private final long healthyNanos;
    private long backoffMs = FIRST_BACKOFF_MS;
    private boolean scheduled;
    private long atNanos;
    private D failed;
    private String why;
    private long healthySince;
    private boolean healthyCounted;

    /** @param healthyFor how long a domain must stay ONLINE before the back-off starts from the first value again */
    RestartSchedule(java.time.Duration healthyFor) {
        this.healthyNanos = healthyFor.toNanos();
    }

    /**
     * Why a domain that stopped with {@code e} starts again by itself, or null when it does not: it needs a full
     * transfer, its server lost helper commits in a crash, or its server does not accept connections. The cause chain
     * counts: the applier's failure can reach the domain wrapped (a delivery that met the stopped applier first).
     */
    static String reasonToRestart(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.chorus.recovery.TransferNeededException
                    || t instanceof io.chorus.coordinator.apply.LostCommitsException
                    || t instanceof io.chorus.coordinator.apply.ServerShutdownException) {
                return t.getClass().getSimpleName();
            }
        }
        return null;
    }

    /** Schedules a restart of {@code failedDomain} after the current back-off; returns that back-off in ms. */
    synchronized long schedule(D failedDomain, String reason, long nowNanos) {
        long delay = backoffMs;
        failed = failedDomain;
        why = reason;
        scheduled = true;
        atNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(delay);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        healthySince = 0;
        return delay;
    }

    /** The restart that is due now, once (null when none is). */
    synchronized Due<D> takeDue(long nowNanos) {
        if (!scheduled || nowNanos - atNanos < 0) {
            return null;
        }
        scheduled = false;
        Due<D> due = new Due<>(failed, why);
        failed = null;
        return due;
    }

    /**
     * Reports whether the current domain is ONLINE; returns true when this report resets the back-off (the domain has
     * been ONLINE without a scheduled restart for the healthy time since the last restart).
     */
    synchronized boolean health(boolean online, long nowNanos) {
        if (!online || scheduled) {
            healthySince = 0;
            healthyCounted = false;
            return false;
        }
        if (healthySince == 0) {
            healthySince = nowNanos | 1; // 0 means "not counting"
            return false;
        }
        if (healthyCounted || nowNanos - healthySince < healthyNanos) {
            return false;
        }
        healthyCounted = true;
        boolean reset = backoffMs != FIRST_BACKOFF_MS;
        backoffMs = FIRST_BACKOFF_MS;
        return reset;
    }

    /** The back-off the next restart waits, in ms. */
    synchronized long backoffMs() {
        return backoffMs;
    }
}
