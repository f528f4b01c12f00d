package io.chorus.coordinator.domain;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Apply lag in time: how long the oldest delivered but not yet applied changeset has been waiting on this node.
 * Deliveries are sampled (one (GSN, time) pair per {@value #SAMPLE_MILLIS} ms at most, {@value #MAX_SAMPLES} kept,
 * the oldest coarsened away beyond), so the answer may be short by a sample interval and memory stays bounded at
 * any rate. Thread-safe.
 */
final class LagClock {
    static final long SAMPLE_MILLIS = 10;
    static final int MAX_SAMPLES = 4096;

    private record Sample(long gsn, long nanos) {
    }

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private long lastSampleNanos = Long.MIN_VALUE;

    /** Records that GSN {@code gsn} was delivered now. */
    synchronized void delivered(long gsn, long nowNanos) {
        if (lastSampleNanos != Long.MIN_VALUE && nowNanos - lastSampleNanos < TimeUnit.MILLISECONDS.toNanos(SAMPLE_MILLIS)) {
            return;
        }
        lastSampleNanos = nowNanos;
        if (samples.size() == MAX_SAMPLES) {
            samples.removeFirst(); // the first unapplied changeset's wait is then measured from a later sample
        }
        samples.addLast(new Sample(gsn, nowNanos));
    }

    /** Milliseconds the first changeset after {@code applied} has waited since its delivery; 0 when none waits. */
    synchronized long lagMillis(long applied, long delivered, long nowNanos) {
        while (!samples.isEmpty() && samples.peekFirst().gsn() <= applied) {
            samples.removeFirst();
        }
        if (applied >= delivered || samples.isEmpty()) {
            return 0;
        }
        return TimeUnit.NANOSECONDS.toMillis(nowNanos - samples.peekFirst().nanos());
    }
}
