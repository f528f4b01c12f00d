package io.chorus.it.harness;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** Bounded waits on conditions: poll with a short back-off until true or the deadline, then fail saying what. */
public final class Await {
    private Await() {
    }

    /** A condition that may fail while it is checked (a failure counts as "not yet"). */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    /**
     * Blocks until {@code condition} holds. Throws {@link IllegalStateException} naming {@code what} (and the last
     * failure of the condition, if any) after {@code timeout}; restores the interrupt flag and throws on interrupt.
     */
    public static void until(String what, Duration timeout, Condition condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMs = 10;
        Exception last = null;
        while (true) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up after " + timeout.toSeconds() + " s waiting for " + what
                        + (last == null ? "" : " (last error: " + last.getMessage() + ")"), last);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(pauseMs));
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what);
            }
            pauseMs = Math.min(pauseMs * 2, 250);
        }
    }
}
