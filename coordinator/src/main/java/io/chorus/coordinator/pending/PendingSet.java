package io.chorus.coordinator.pending;

import io.chorus.changeset.ChangeSet;
import java.util.ArrayList;
import java.util.List;

/** One pending local changeset: a transaction, so its changes are doomed all together or not at all. */
final class PendingSet {
    final ChangeSet cs;
    /** Its position in commit order among the tracker's pending changesets. */
    final long seq;
    /** The tracker's index its changes keep in step, or null (a set outside a tracker). */
    final PendingIndex index;
    final List<PendingChange> changes = new ArrayList<>();
    /** How many of its changes are doomed (kept by {@link PendingChange#doom}). */
    int doomedChanges;

    PendingSet(ChangeSet cs) {
        this(cs, 0, null);
    }

    PendingSet(ChangeSet cs, long seq, PendingIndex index) {
        this.cs = cs;
        this.seq = seq;
        this.index = index;
    }

    /** Whether it lost (then every change with keys is doomed, with the same cause). */
    boolean doomed() {
        return doomedChanges > 0;
    }
}
