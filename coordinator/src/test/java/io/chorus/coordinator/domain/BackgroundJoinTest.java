package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The start's group join on its own thread: its failure reaches the start, and a join that hangs is bounded. */
class BackgroundJoinTest {

    @Test
    void aRefusedJoinIsReportedWithItsOwnMessage() throws Exception {
        BackgroundJoin join = new BackgroundJoin("app", () -> {
            throw new ChorusException("member node4 was refused: group identity differs");
        });
        Awaitility.await("the join to fail").atMost(Duration.ofSeconds(10)).until(() -> join.failure() != null);
        assertThat(join.failure().getMessage()).isEqualTo("member node4 was refused: group identity differs");
        assertThatThrownBy(() -> join.await(Duration.ofSeconds(5)))
                .isInstanceOf(ChorusException.class).hasMessage("member node4 was refused: group identity differs");
    }

    @Test
    void aJoinThatDoesNotFinishTimesOutNamingTheDatabase() {
        CountDownLatch never = new CountDownLatch(1);
        BackgroundJoin join = new BackgroundJoin("app", () -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        assertThat(join.failure()).as("still running").isNull();
        assertThatThrownBy(() -> join.await(Duration.ofMillis(200)))
                .isInstanceOf(ChorusException.class)
                .hasMessageContaining("group join of database app did not finish within 200 ms");
        never.countDown();
    }
}
