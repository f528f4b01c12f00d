package io.chorus.it;

import io.chorus.it.workload.WorkloadRunner;
import java.time.Duration;

/** Waits of the suites on workload progress (bounded). */
final class Await {
    private Await() {
    }

    /** Blocks until the runner committed {@code n} more transactions than now, at most 60 s. */
    static void committed(WorkloadRunner run, long n) {
        long target = run.committed() + n;
        io.chorus.it.harness.Await.until(n + " more committed workload transactions (at " + run.committed() + ")",
                Duration.ofSeconds(60), () -> run.committed() >= target);
    }
}
