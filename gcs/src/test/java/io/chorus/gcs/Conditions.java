package io.chorus.gcs;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting on conditions with deadlines (tests). */
final class Conditions {
    private Conditions() {
    }

    /** Polls {@code condition} every 20 ms until it holds; fails after {@code timeout} naming what and the state. */
    static void await(String what, Duration timeout, BooleanSupplier condition, Supplier<String> state)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        Object lock = new Object();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; state: "
                        + state.get());
            }
            synchronized (lock) {
                TimeUnit.MILLISECONDS.timedWait(lock, 20);
            }
        }
    }
}
