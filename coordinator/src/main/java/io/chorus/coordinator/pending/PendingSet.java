package io.chorus.coordinator.pending;

import io.chorus.changeset.ChangeSet;
import java.util.ArrayList;
import java.util.List;

/** One pending local changeset: a transaction, so its changes are doomed all together or not at all. */
final class PendingSet {
    final ChangeSet cs;
    final List<PendingChange> changes = new ArrayList<>();

    PendingSet(ChangeSet cs) {
        this.cs = cs;
    }

    /** Whether it lost (then every change with keys is doomed, with the same cause). */
    boolean doomed() {
        for (PendingChange pc : changes) {
            if (pc.doomCause != null) {
                return true;
            }
        }
        return false;
    }
}
