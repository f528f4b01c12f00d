package io.chorus.coordinator.apply;

import java.util.concurrent.atomic.LongAdder;

/** The applier's counters. Thread-safe; cheap to update from every helper. */
final class ApplyMetrics {
    final LongAdder units = new LongAdder();
    final LongAdder transactions = new LongAdder();
    final LongAdder rows = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder yields = new LongAdder();
    final LongAdder rechecks = new LongAdder();
    /** Batches whose re-run held this node's local writers after they raced it (see {@link Helper}). */
    final LongAdder holds = new LongAdder();
    /** Re-runs that went on without that hold because the writers already writing did not finish in time. */
    final LongAdder holdTimeouts = new LongAdder();
    /** Held re-runs that rolled back because a lock they waited for outlasted the hold's timeout (see {@link Helper}). */
    final LongAdder holdsGivenWay = new LongAdder();
    /** Where batched transactions spend their time (nanoseconds, summed over helpers; see {@link #phases}). */
    final LongAdder batched = new LongAdder();
    final LongAdder writeNanos = new LongAdder();
    final LongAdder guardNanos = new LongAdder();
    final LongAdder turnNanos = new LongAdder();
    final LongAdder commitNanos = new LongAdder();
    final LongAdder holdsSinceLast = new LongAdder();
    final LongAdder holdTimeoutsSinceLast = new LongAdder();

    void held() {
        holds.increment();
        holdsSinceLast.increment();
    }

    void holdTimedOut() {
        holdTimeouts.increment();
        holdTimeoutsSinceLast.increment();
    }

    /**
     * Mean milliseconds per batched transaction in each phase since the last call, with the batches that held local
     * writers (null if none committed), then restarts.
     */
    String phases() {
        long held = holdsSinceLast.sumThenReset();
        long timedOut = holdTimeoutsSinceLast.sumThenReset();
        long n = batched.sumThenReset();
        long write = writeNanos.sumThenReset();
        long guard = guardNanos.sumThenReset();
        long turn = turnNanos.sumThenReset();
        long commit = commitNanos.sumThenReset();
        if (n == 0) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "%d batched transactions, mean ms: write %.1f, capture check %.1f,"
                + " turn %.1f, commit %.1f; local writers held for %d batches (%d holds timed out)", n, write / 1e6 / n,
                guard / 1e6 / n, turn / 1e6 / n, commit / 1e6 / n, held, timedOut);
    }
}
