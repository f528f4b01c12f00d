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
}
