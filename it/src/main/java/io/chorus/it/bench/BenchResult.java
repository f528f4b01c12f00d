package io.chorus.it.bench;

import java.util.List;

/**
 * One measured configuration: system (native or chorus), mode (one writer / all nodes writing), workload; load
 * throughput, lag quantiles and samples, CPU per committed transaction (servers and sidecars; of the sidecars' CPU, the
 * part their JIT compilers used), and the apply rate of
 * a drained backlog (NaN where the phase did not run).
 */
record BenchResult(String system, String mode, String workload, int writingNodes, long committed, double seconds,
                   long refused, double lagP50Ms, double lagP99Ms, double serverCpuMsPerTx, double sidecarCpuMsPerTx,
                   double sidecarJitMsPerTx, List<LagProbe.Sample> lag) {

    double tps() {
        return committed / seconds;
    }

    String label() {
        return system + " " + mode + " " + workload;
    }

    /** A drained backlog: transactions written while apply was paused, and the time to apply them after resuming. */
    record Drain(String system, String workload, long backlog, double seconds) {
        double rate() {
            return backlog / seconds;
        }
    }
}
