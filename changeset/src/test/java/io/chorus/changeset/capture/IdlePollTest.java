package io.chorus.changeset.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An idle reader polls every millisecond for a while (capture syncs wait on it), then less often, never rarer than 8 ms. */
class IdlePollTest {
    private static long ms(int emptyPolls) {
        return TimeUnit.NANOSECONDS.toMillis(CaptureLoop.idlePollNanos(emptyPolls));
    }

    @Test
    void pollsBrisklyAfterActivityThenBacksOffToABound() {
        for (int n = 1; n <= 20; n++) {
            assertThat(ms(n)).as("empty poll %d", n).isEqualTo(1);
        }
        assertThat(ms(21)).isEqualTo(2);
        assertThat(ms(22)).isEqualTo(4);
        assertThat(ms(23)).isEqualTo(8);
        assertThat(ms(24)).isEqualTo(8);
        assertThat(ms(Integer.MAX_VALUE)).as("no overflow").isEqualTo(8);
    }
}
