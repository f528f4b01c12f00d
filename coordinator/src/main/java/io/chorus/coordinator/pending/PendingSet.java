package io.chorus.coordinator.pending;

import io.chorus.changeset.ChangeSet;
import java.util.ArrayList;
import java.util.List;

/** One pending local changeset: a transaction, so its changes are doomed all together or not at all. */
final class PendingSet {
    final ChangeSet cs;
    final List<PendingChange> changes = new ArrayList<>();
    /** How many of its changes are doomed (kept by {@link PendingChange#doom}): the doom scan asks every set. */
    int doomedChanges;

    PendingSet(ChangeSet cs) {
        this.cs = cs;
    }

    /** Whether it lost (then every change with keys is doomed, with the same cause). */
    boolean doomed() {
        return doomedChanges > 0;
    }
}
