package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.pending.PendingTracker;
import java.util.List;

/** Bridge to the pending tracker's late doom: rows of local commits doomed by winners after their restores were computed. */
final class LateDoom {
    private LateDoom() {
    }

    static List<RestoreRow> take(PendingTracker pending, Gsn first, Gsn last) {
        return pending.takeLateRestores(first, last);
    }

    static void committed(PendingTracker pending, Gsn upTo) {
        pending.committed(upTo);
    }
}
