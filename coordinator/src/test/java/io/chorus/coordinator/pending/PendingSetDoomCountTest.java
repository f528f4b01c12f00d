package io.chorus.coordinator.pending;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A set counts as doomed exactly while one of its changes is, whatever the order of dooms and undooms. */
class PendingSetDoomCountTest {
    @Test
    void theCountFollowsEveryDoomAndUndoom() {
        PendingSet ps = new PendingSet(null);
        PendingChange a = new PendingChange(ps, 0, null, List.of());
        PendingChange b = new PendingChange(ps, 1, null, List.of());
        ps.changes.add(a);
        ps.changes.add(b);
        assertThat(ps.doomed()).isFalse();
        a.doom(Gsn.of(5));
        a.doom(Gsn.of(4)); // a new cause, still one doomed change
        b.doom(Gsn.of(5));
        assertThat(ps.doomed()).isTrue();
        a.doom(null);
        assertThat(ps.doomed()).as("b is still doomed").isTrue();
        b.doom(null);
        b.doom(null); // undooming twice changes nothing
        assertThat(ps.doomed()).isFalse();
        assertThat(ps.doomedChanges).isZero();
        b.doom(Gsn.of(7));
        assertThat(ps.doomed()).isTrue();
        assertThat(b.doomCause()).isEqualTo(Gsn.of(7));
    }
}
