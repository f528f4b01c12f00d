package io.chorus.coordinator.pending;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The tracker's work per local commit, own delivery and remote winner does not grow with the backlog of pending
 * changesets (the scans it replaced visited every pending changeset for every winner and every late commit: tens of
 * thousands of visits per step at a backlog of 2,000). Counts visits, never time. Seeded:
 * {@code -Dchorus.backlog.seed=S} replays.
 */
class PendingBacklogWorkTest {
    private static final int STEPS = 400;

    @Test
    void theWorkPerStepDoesNotGrowWithTheBacklog() {
        long seed = Long.getLong("chorus.backlog.seed", System.nanoTime() & 0xFFFF_FFFFL);
        System.out.printf("pending backlog work: seed %d (replay: -Dchorus.backlog.seed=%d)%n", seed, seed);
        for (boolean wide : new boolean[] {false, true}) {
            BacklogScenario.Work small = scenario(wide, seed).run(250, STEPS);
            BacklogScenario.Work large = scenario(wide, seed).run(2_000, STEPS);
            System.out.printf("  %s: %s%n  %s: %s%n", wide ? "wide" : "tpcb", small, wide ? "wide" : "tpcb", large);
            assertThat(large.perStep()).as("visits per step at 8x the backlog (seed %d, %s)", seed, large)
                    .isLessThan(1.5 * small.perStep() + 10);
            assertThat(large.perStep()).as("visits per step (seed %d): a few per change, not per pending changeset",
                    seed).isLessThan(100);
        }
    }

    private static BacklogScenario scenario(boolean wide, long seed) {
        return wide ? BacklogScenario.wide(seed) : BacklogScenario.tpcb(seed);
    }
}
