package io.chorus.coordinator.pending;

/**
 * Harness (not a test): runs {@link BacklogScenario#tpcb} at growing backlogs and prints the tracker's visits per
 * steady step and the wall time per step. Run from the IDE or with the test classpath, with
 * {@code -Dbench.seed=1 -Dbench.steps=2000 -Dbench.backlogs=2000,4000,8000,16000 -Dbench.set=tpcb} (or
 * {@code wide}: a wider hot set, fewer losses). Equal rollback digests before and after a change: equal behaviour.
 */
public final class PendingBacklogBench {
    private PendingBacklogBench() {
    }

    public static void main(String[] args) {
        long seed = Long.getLong("bench.seed", 1L);
        int steps = Integer.getInteger("bench.steps", 2_000);
        String[] backlogs = System.getProperty("bench.backlogs", "2000,4000,8000,16000").split(",");
        boolean wide = "wide".equals(System.getProperty("bench.set", "tpcb"));
        System.out.printf("PendingBacklogBench seed=%d steps=%d set=%s%n", seed, steps, wide ? "wide" : "tpcb");
        for (String b : backlogs) {
            BacklogScenario s = wide ? BacklogScenario.wide(seed) : BacklogScenario.tpcb(seed);
            long t0 = System.nanoTime();
            BacklogScenario.Work w = s.run(Integer.parseInt(b.trim()), steps);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("  %s; %,d ms in all (backlog built and measured)%n", w, ms);
        }
    }
}
