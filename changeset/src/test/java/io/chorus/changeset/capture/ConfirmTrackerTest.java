package io.chorus.changeset.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureState.Position;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The confirm rule and the durable position, without a server. */
class ConfirmTrackerTest {
    private static Lsn l(long v) {
        return Lsn.of(v);
    }

    @Test
    void confirmsEverythingReceivedWhenAllDeliveredElseTheFirstUndeliveredCommit() {
        ConfirmTracker t = new ConfirmTracker();
        assertThat(t.confirmable(l(100), Gsn.of(3))).isEqualTo(new Position(l(100), Gsn.of(3)));
        t.emitted(l(200), Gsn.of(3), null);
        t.emitted(l(300), Gsn.of(5), null);
        t.emitted(l(400), Gsn.of(5), null);
        assertThat(t.confirmable(l(450), Gsn.of(6))).as("nothing delivered").isEqualTo(new Position(l(200), Gsn.of(3)));
        t.markDelivered(l(300));
        assertThat(t.confirmable(l(450), Gsn.of(6))).as("a gap holds the position").isEqualTo(new Position(l(200), Gsn.of(3)));
        t.markDelivered(l(200));
        assertThat(t.confirmable(l(450), Gsn.of(6))).isEqualTo(new Position(l(400), Gsn.of(5)));
        t.markDelivered(l(400));
        assertThat(t.confirmable(l(450), Gsn.of(6))).isEqualTo(new Position(l(450), Gsn.of(6)));
        assertThat(t.pendingCount()).as("nothing forgotten before the position is persisted and reported").isEqualTo(3);
        t.forgetBefore(l(450));
        assertThat(t.pendingCount()).isZero();
        assertThat(t.markDelivered(l(400))).as("already confirmed").isFalse();
    }

    @Test
    void deliveriesSurviveAReconnectAndReEmissionsMustCarryTheSameDeps() {
        ConfirmTracker t = new ConfirmTracker();
        AtomicInteger closed = new AtomicInteger();
        t.emitted(l(200), Gsn.of(1), closed::incrementAndGet);
        t.emitted(l(300), Gsn.of(1), null);
        t.markDelivered(l(200));
        t.markDelivered(l(300));
        // reconnected at 150: nothing at or above it may be forgotten before it is received again
        assertThat(t.confirmable(l(150), Gsn.of(1))).isEqualTo(new Position(l(150), Gsn.of(1)));
        assertThat(t.pendingCount()).isEqualTo(2);
        assertThat(t.emitted(l(200), Gsn.of(1), closed::incrementAndGet)).as("re-emission").isFalse();
        assertThat(t.confirmable(l(250), Gsn.of(1))).isEqualTo(new Position(l(250), Gsn.of(1)));
        t.forgetBefore(l(250));
        assertThat(closed).as("both spill files of the confirmed changeset released").hasValue(2);
        assertThat(t.reEmitted()).isEqualTo(1);
        assertThatThrownBy(() -> t.emitted(l(300), Gsn.of(2), null)).isInstanceOf(CaptureException.class)
                .hasMessageContaining("decoded again with deps 2 but first with deps 1");
    }

    @Test
    void aComputedPositionThatWasNotReportedForgetsNothingSoAReEmissionIsRecognised() {
        ConfirmTracker t = new ConfirmTracker();
        t.emitted(l(200), Gsn.of(1), null);
        t.markDelivered(l(200));
        assertThat(t.confirmable(l(300), Gsn.of(1))).isEqualTo(new Position(l(300), Gsn.of(1)));
        // the position was not persisted (yet): the server re-sends 200 after a reconnect
        assertThat(t.emitted(l(200), Gsn.of(1), null)).as("still known as emitted and delivered").isFalse();
        t.forgetBefore(l(150));
        assertThat(t.pendingCount()).as("only what lies before a reported position is forgotten").isEqualTo(1);
        t.forgetBefore(l(300));
        assertThat(t.pendingCount()).isZero();
    }

    @Test
    void stateFileRoundTripsAndRefusesAnotherSlotsOrCorruptState() throws Exception {
        Path dir = Files.createTempDirectory("state-");
        CaptureState s = new CaptureState(dir, "chorus_app");
        assertThat(s.load()).isEmpty();
        s.save(new Position(Lsn.parse("16/B374D848"), Gsn.of(42)));
        assertThat(s.load()).contains(new Position(Lsn.parse("16/B374D848"), Gsn.of(42)));
        assertThat(Files.list(dir)).containsExactly(dir.resolve(CaptureState.FILE));
        assertThatThrownBy(() -> new CaptureState(dir, "other").load()).hasMessageContaining("belongs to slot 'chorus_app', not 'other'");
        Files.writeString(dir.resolve(CaptureState.FILE), "slot=chorus_app\nconfirmed_lsn=garbage\ndeps=1\n");
        assertThatThrownBy(s::load).isInstanceOf(CaptureException.class).hasMessageContaining("is corrupt");
    }
}
