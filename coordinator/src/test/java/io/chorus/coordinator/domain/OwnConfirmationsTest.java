package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When the capture may let go of an own changeset: once applied (async), once delivered (sync). */
class OwnConfirmationsTest {

    @Test
    void asyncReleasesOwnChangesetsOnlyOnceTheirGsnIsApplied() {
        List<Lsn> released = new ArrayList<>();
        OwnConfirmations c = new OwnConfirmations(false, Gsn.of(10), released::add);
        c.delivered(Gsn.of(8), Lsn.of(100)); // replayed, applied before the restart
        assertThat(released).containsExactly(Lsn.of(100));
        c.delivered(Gsn.of(12), Lsn.of(200));
        c.delivered(Gsn.of(15), Lsn.of(300));
        assertThat(released).as("delivered above W, not applied").containsExactly(Lsn.of(100));
        c.applied(Gsn.of(13));
        assertThat(released).containsExactly(Lsn.of(100), Lsn.of(200));
        c.applied(Gsn.of(20));
        c.delivered(Gsn.of(19), Lsn.of(400)); // applied before its delivery was reported
        assertThat(released).containsExactly(Lsn.of(100), Lsn.of(200), Lsn.of(300), Lsn.of(400));
    }

    @Test
    void syncReleasesAtDelivery() {
        List<Lsn> released = new ArrayList<>();
        OwnConfirmations c = new OwnConfirmations(true, Gsn.of(10), released::add);
        c.delivered(Gsn.of(12), Lsn.of(200));
        assertThat(released).containsExactly(Lsn.of(200));
    }
}
