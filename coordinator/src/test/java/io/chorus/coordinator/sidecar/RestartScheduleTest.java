package io.chorus.coordinator.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.coordinator.apply.LostCommitsException;
import io.chorus.coordinator.apply.ServerShutdownException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The restart back-off: doubles per restart, capped, and starts from its first value after a healthy stretch. */
class RestartScheduleTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);
    private final RestartSchedule<String> schedule = new RestartSchedule<>(Duration.ofSeconds(30));

    @Test
    void aRestartIsDueOnceAfterItsBackoff() {
        assertThat(schedule.schedule("d1", "LostCommitsException", 0)).isEqualTo(2_000);
        assertThat(schedule.takeDue(S)).as("due before its back-off passed").isNull();
        RestartSchedule.Due<String> due = schedule.takeDue(2 * S);
        assertThat(due).isNotNull();
        assertThat(due.failed()).isEqualTo("d1");
        assertThat(due.why()).isEqualTo("LostCommitsException");
        assertThat(schedule.takeDue(3 * S)).as("taken twice").isNull();
    }

    @Test
    void theBackoffDoublesUpToItsCap() {
        long[] delays = new long[12];
        for (int i = 0; i < delays.length; i++) {
            delays[i] = schedule.schedule("d", "ServerShutdownException", 0);
        }
        assertThat(delays).startsWith(2_000, 4_000, 8_000, 16_000, 32_000);
        assertThat(delays[delays.length - 1]).isEqualTo(RestartSchedule.MAX_BACKOFF_MS);
    }

    @Test
    void aDomainOnlineForTheHealthyTimeResetsTheBackoffOnce() {
        schedule.schedule("d1", "x", 0);
        schedule.schedule("d2", "x", 0);
        schedule.takeDue(10 * S);
        assertThat(schedule.backoffMs()).isEqualTo(8_000);
        assertThat(schedule.health(true, 11 * S)).as("starts counting").isFalse();
        assertThat(schedule.health(false, 20 * S)).as("not ONLINE: counting starts over").isFalse();
        assertThat(schedule.health(true, 21 * S)).isFalse();
        assertThat(schedule.health(true, 50 * S)).as("29 s ONLINE").isFalse();
        assertThat(schedule.backoffMs()).isEqualTo(8_000);
        assertThat(schedule.health(true, 52 * S)).as("31 s ONLINE: reset").isTrue();
        assertThat(schedule.backoffMs()).isEqualTo(RestartSchedule.FIRST_BACKOFF_MS);
        assertThat(schedule.health(true, 90 * S)).as("reported once").isFalse();
    }

    @Test
    void aScheduledRestartStopsTheHealthyCount() {
        schedule.schedule("d1", "x", 0);
        schedule.takeDue(2 * S);
        schedule.health(true, 3 * S);
        schedule.schedule("d2", "x", 10 * S);
        assertThat(schedule.health(true, 40 * S)).as("a restart is pending").isFalse();
        assertThat(schedule.backoffMs()).isEqualTo(8_000);
    }

    @Test
    void restartableFailuresCountWhenWrapped() {
        LostCommitsException lost = new LostCommitsException(Gsn.of(7), Gsn.of(9));
        ServerShutdownException shutdown = new ServerShutdownException("chorus_h0", "SQLState 57P03: shutting down",
                Gsn.of(9));
        assertThat(RestartSchedule.reasonToRestart(lost)).isEqualTo("LostCommitsException");
        assertThat(RestartSchedule.reasonToRestart(new ChorusException("the applier stopped: x", shutdown)))
                .as("wrapped by the applier").isEqualTo("ServerShutdownException");
        assertThat(RestartSchedule.reasonToRestart(new ChorusException("applying GSN 3 failed")))
                .as("a persistent error waits for the operator").isNull();
    }
}
