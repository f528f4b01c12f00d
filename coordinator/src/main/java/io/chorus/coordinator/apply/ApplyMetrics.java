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
    /** Where batched transactions spend their time (nanoseconds, summed over helpers; see {@link #phases}). */
    final LongAdder batched = new LongAdder();
    final LongAdder writeNanos = new LongAdder();
    final LongAdder guardNanos = new LongAdder();
    final LongAdder turnNanos = new LongAdder();
    final LongAdder commitNanos = new LongAdder();

    /** Mean milliseconds per batched transaction in each phase since the last call (null if none), then restarts. */
    String phases() {
        long n = batched.sumThenReset();
        long write = writeNanos.sumThenReset();
        long guard = guardNanos.sumThenReset();
        long turn = turnNanos.sumThenReset();
        long commit = commitNanos.sumThenReset();
        if (n == 0) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "%d batched transactions, mean ms: write %.1f, capture check %.1f,"
                + " turn %.1f, commit %.1f", n, write / 1e6 / n, guard / 1e6 / n, turn / 1e6 / n, commit / 1e6 / n);
    }
}
