package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LagClockTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void measuresTheWaitOfTheOldestUnappliedChangeset() {
        LagClock clock = new LagClock();
        clock.delivered(1, 0);
        clock.delivered(2, 20 * MS);
        clock.delivered(3, 40 * MS);
        assertThat(clock.lagMillis(0, 3, 100 * MS)).as("GSN 1 waits since 0 ms").isEqualTo(100);
        assertThat(clock.lagMillis(1, 3, 100 * MS)).as("GSN 2 waits since 20 ms").isEqualTo(80);
        assertThat(clock.lagMillis(3, 3, 100 * MS)).as("nothing waits").isZero();
    }

    @Test
    void samplesAtMostEveryTenMillisecondsAndStaysBounded() {
        LagClock clock = new LagClock();
        for (long g = 1; g <= 100_000; g++) {
            clock.delivered(g, g * MS / 100); // 100 deliveries per millisecond
        }
        // GSN 5 was delivered at 0.05 ms, inside the first sample's interval (GSN 1 at 0.01 ms): it is measured from
        // the next sample, GSN 1001 at 10.01 ms
        assertThat(clock.lagMillis(4, 100_000, 1_000 * MS)).isEqualTo(989);
        for (long g = 100_001; g <= 100_000 + LagClock.MAX_SAMPLES * 2L; g++) {
            clock.delivered(g, g * 20 * MS);
        }
        // only the newest MAX_SAMPLES are kept: the lag is measured from the oldest kept one
        long oldestKept = 100_000 + LagClock.MAX_SAMPLES + 1;
        assertThat(clock.lagMillis(100_000, 200_000, 200_000 * 20 * MS)).isEqualTo((200_000 - oldestKept) * 20);
    }
}
