package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.coordinator.pending.LateDoomSwitch;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The reference model (sim_cert.py, variant fix) ported onto the real {@link Certifier} and
 * {@code PendingTracker}: seeded random histories of 2-3 nodes, checked for identical tables and decisions, no
 * orphans, no duplicate unique values, no stuck node, and the oracle. A failure is shrunk and printed as a trace.
 *
 * <p>{@code -Dchorus.sim.seed=S} replays from seed S ({@code -Dchorus.sim.seed=random}: a new one each run, to explore);
 * {@code -Dchorus.sim.histories=N} sets the number of histories. By default the seed base is fixed
 * ({@value #DEFAULT_SEED}), so that a run of the suite is repeatable; explore with random ones before a change lands
 * (the histories they found are kept in {@link #historiesRandomSeedsFoundFailing}).
 */
class CertificationSimulationTest {
    private static final int FAST_HISTORIES = 2_000;
    static final long DEFAULT_SEED = 20_261_207L;

    @Test
    void randomHistoriesConverge() {
        runAndAssertClean(Integer.getInteger("chorus.sim.histories", FAST_HISTORIES));
    }

    @Test
    @Tag("slow")
    void manyRandomHistoriesConverge() {
        runAndAssertClean(Integer.getInteger("chorus.sim.histories.slow", 20_000));
    }

    private static void runAndAssertClean(int histories) {
        String given = System.getProperty("chorus.sim.seed", Long.toString(DEFAULT_SEED));
        long seed = "random".equals(given) ? System.nanoTime() & 0xFFFF_FFFFL : Long.parseLong(given);
        System.out.printf("certification simulation: %d histories from seed %d (replay: -Dchorus.sim.seed=%d)%n",
                histories, seed, seed);
        Result r = run(seed, histories, null, false);
        System.out.printf("certification simulation: %d histories, %d GSNs, %d lost changes %s, %d rows rolled back"
                + " late (%d taken twice in one batch), failures %s%n", histories, r.gsns, r.lost, r.kinds, r.lateRows,
                r.lateRepeats, r.failures);
        assertThat(r.firstFailure).as("a failing history (seed base %d)", seed).isNull();
        assertThat(r.lost).as("the histories must produce conflicts to be worth anything").isGreaterThan(histories / 10);
        assertThat(r.lateRows).as("late captures must doom local commits to be worth anything")
                .isGreaterThan(histories / 100);
    }

    /**
     * Histories random seed bases found failing, kept as regression cases. All were late rollbacks written with the
     * first unit of a batch: seed 1044788802 gave p1 its unique value u=1 back while p2 held it until a later unit's
     * own rollback (the late set took the winners' own rollbacks only up to the GSN it was recorded for; it now takes
     * every winner's of the transaction), seed 51893942 was the simulation writing the first unit's own rollbacks
     * after the late ones instead of merged with them, as the applier does, and seed 2173508278 took p2 back to u=3 at
     * GSN 2's own rollback after the late set had given u=3 back to p0 and sent p2 away, as GSN 3 does again (a later
     * unit's own rollback of a row the late set already took further is left there: RowWriter.inPlace).
     */
    @Test
    void historiesRandomSeedsFoundFailing() {
        for (long seed : new long[] {1_044_788_802L, 51_893_942L, 2_173_508_278L}) {
            Result r = run(seed, 1, null, false);
            assertThat(r.firstFailure).as("history of seed %d", seed).isNull();
        }
    }

    /** Without late doom, local commits captured after a concurrent winner was delivered make the nodes diverge. */
    @Test
    void withoutLateDoomTheSimulationFindsDivergence() {
        LateDoomSwitch.set(false);
        try {
            Result r = run(1L, 3_000, null, true);
            System.out.printf("ablation (late doom disabled): failures %s%n", r.failures);
            assertThat(r.firstFailure).as("histories failing without late doom").isNotNull();
            assertThat(r.failures.keySet()).as("kinds of failure without late doom")
                    .containsAnyOf("diverge", "tracker", "apply-error", "oracle", "dup-unique");
            System.out.println("first failing history without late doom, shrunk:\n" + r.firstFailure);
        } finally {
            LateDoomSwitch.set(true);
        }
    }

    /** The ablation of the model: without R2 the same histories diverge, so the simulation can fail. */
    @Test
    void withoutSameOriginRuleTheSimulationFindsDivergence() {
        CertRules.sameOriginRule = false;
        try {
            Result r = run(1L, 3_000, SimHistory.Mode.FKUNIQ, true);
            System.out.printf("ablation (R2 disabled): failures %s%n", r.failures);
            assertThat(r.firstFailure).as("histories failing without R2").isNotNull();
            assertThat(r.failures.keySet()).as("kinds of failure without R2")
                    .containsAnyOf("diverge", "orphan", "transient-orphan", "dup-unique", "apply-error", "oracle");
            System.out.println("first failing history without R2, shrunk:\n" + r.firstFailure);
        } finally {
            CertRules.sameOriginRule = true;
        }
    }

    private static final class Result {
        final Map<String, Integer> failures = new TreeMap<>();
        final Map<String, Integer> kinds = new TreeMap<>();
        long gsns;
        long lost;
        long lateRows;
        long lateRepeats;
        String firstFailure;
    }

    private static Result run(long seed, int histories, SimHistory.Mode mode, boolean stopAtFirst) {
        Result r = new Result();
        for (int i = 0; i < histories; i++) {
            SimHistory h = SimHistory.generate(seed + i, mode);
            SimCluster w = h.run(false);
            r.gsns += w.log.size();
            r.lateRows += w.lateRows;
            r.lateRepeats += w.lateRepeats;
            w.conflicts(w.nodes.get(0)).values().forEach(rows -> rows.forEach(c -> {
                r.lost++;
                r.kinds.merge(c.kind(), 1, Integer::sum);
            }));
            String kind = SimHistory.firstFailure(w);
            if (kind != null) {
                r.failures.merge(kind, 1, Integer::sum);
                if (r.firstFailure == null) {
                    SimHistory small = h.shrink(kind);
                    r.firstFailure = "[" + kind + "] replay with -Dchorus.sim.seed=" + (seed + i)
                            + " -Dchorus.sim.histories=1\n" + small.report();
                }
                if (stopAtFirst) {
                    break;
                }
            }
        }
        return r;
    }
}
